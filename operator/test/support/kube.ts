import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";

export function kubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** A namespace name no other test (or earlier run against the same server) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

export async function createNamespace(kc: k8s.KubeConfig, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

/** Polls `probe` until it returns a value other than undefined, or fails with the last reason. */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 200 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The HTTP status and message of a failed Kubernetes API call. */
export function apiError(error: unknown): { code: number; message: string } {
  if (error instanceof k8s.ApiException) {
    const body: unknown = typeof error.body === "string" ? JSON.parse(error.body) : error.body;
    const message = (body as { message?: string } | undefined)?.message ?? String(error.body);
    return { code: error.code, message };
  }
  throw error;
}

/** The plain JSON of an API object (client-node returns class instances). */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Resolves true when `request` fails with 404 Not Found, false when the object is there. */
export function isGone(request: Promise<unknown>): Promise<boolean> {
  return request.then(
    () => false,
    (error: unknown) => {
      if (error instanceof k8s.ApiException && error.code === 404) return true;
      throw error;
    },
  );
}
