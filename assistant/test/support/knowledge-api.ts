import { setTimeout as sleep } from "node:timers/promises";
import type { ApiReply } from "./client.js";

export interface JobView {
  id: string;
  source: string;
  title: string | null;
  format: string;
  status: "queued" | "running" | "succeeded" | "failed";
  attempts: number;
  error: string | null;
  outcome: "indexed" | "unchanged" | null;
  documentId: string | null;
  chunkCount: number | null;
  bytes: number;
}

export interface DocumentView {
  id: string;
  title: string;
  source: string;
  scope: "assistant" | "tenant";
  version: number;
  contentHash: string;
  chunkCount: number;
}

export interface SearchHit {
  documentId: string;
  title: string;
  source: string;
  scope: "assistant" | "tenant";
  section: string;
  chunkId: string;
  text: string;
  score: number;
}

type Call = <T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<ApiReply<T>>;

/** Uploads one file as multipart/form-data, as a browser form or `curl -F` would. */
export async function uploadFile(
  baseUrl: string,
  credential: string | undefined,
  file: { name: string; content: Buffer | string },
  fields: Record<string, string> = {},
): Promise<ApiReply<{ job: JobView }>> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  // A Buffer may view a shared pool; Blob takes bytes it owns.
  const bytes = typeof file.content === "string" ? file.content : new Uint8Array(file.content);
  form.append("file", new Blob([bytes]), file.name);
  const response = await fetch(`${baseUrl}/api/v1/knowledge/documents`, {
    method: "POST",
    headers: credential === undefined ? {} : { authorization: `Bearer ${credential}` },
    body: form,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as { job: JobView } };
}

/** Polls an ingestion job until it has succeeded or failed for good. */
export async function settledJob(call: Call, id: string): Promise<JobView> {
  for (;;) {
    const { status, body } = await call<JobView>("GET", `/api/v1/knowledge/jobs/${id}`);
    if (status !== 200) throw new Error(`job ${id}: HTTP ${status}`);
    if (body.status === "succeeded" || body.status === "failed") return body;
    await sleep(20);
  }
}
