import * as k8s from "@kubernetes/client-node";
import type { Failure } from "./status.js";

/** Retry with backoff: the world (a missing Secret, a rejected apply) has to change first. */
export class RetryableError extends Error {
  constructor(readonly failure: Failure) {
    super(`${failure.reason}: ${failure.message}`);
  }
}

/** What a failed call shows as in the status. */
export function failureOf(error: unknown): Failure {
  return error instanceof RetryableError ? error.failure : { reason: "ApplyFailed", message: errorMessage(error) };
}

export function errorMessage(error: unknown): string {
  if (error instanceof k8s.ApiException) return `HTTP ${error.code}: ${apiMessage(error)}`;
  return error instanceof Error ? error.message : String(error);
}

/** The message of an API server's Status body, else the body as it came. */
export function apiMessage(error: k8s.ApiException<unknown>): string {
  try {
    const body: unknown = typeof error.body === "string" ? JSON.parse(error.body) : error.body;
    return (body as { message?: string }).message ?? String(error.body);
  } catch {
    return String(error.body);
  }
}
