import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open, rm } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";

export interface Written {
  bytes: number;
  /** Base64 MD5 of the bytes, as the Content-MD5 header wants it. */
  md5: string;
}

/** Gzips `source` into `target`, measuring what it writes so the upload can be checked by the server. */
export async function gzipFile(source: string, target: string): Promise<Written> {
  const hash = createHash("md5");
  let bytes = 0;
  await pipeline(
    createReadStream(source),
    createGzip(),
    async function* measure(chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        hash.update(chunk);
        bytes += chunk.length;
        yield chunk;
      }
    },
    createWriteStream(target),
  );
  return { bytes, md5: hash.digest("base64") };
}

/** Writes the gunzipped `compressed` stream to `target` and flushes it to disk. */
export async function gunzipToFile(compressed: Readable, target: string): Promise<void> {
  await pipeline(compressed, createGunzip(), createWriteStream(target, { flags: "wx" }));
  await fsync(target);
}

/** fsync a file, or a directory so that a rename in it survives a crash. */
export async function fsync(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A database file with the WAL and shared-memory files SQLite keeps beside it. */
export const withSqliteCompanions = (path: string): [string, string, string] => [path, `${path}-wal`, `${path}-shm`];

export async function removeFiles(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((path) => rm(path, { force: true })));
}
