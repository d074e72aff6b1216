import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { tempDir } from "./service.js";

/** The credentials s3rver accepts. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** Keys under `prefix`, sorted. */
  keys(prefix: string): Promise<string[]>;
  put(key: string, body: Buffer): Promise<void>;
  stop(): Promise<void>;
}

const S3RVER = createRequire(import.meta.url).resolve("s3rver/bin/s3rver.js");

/** Runs s3rver (an S3-compatible server on the file system) as its own process on a free loopback port. */
export async function startS3Server(bucket: string): Promise<S3Server> {
  const args = ["--directory", tempDir("s3"), "--address", "127.0.0.1", "--port", "0", "--silent", "--configure-bucket", bucket];
  const child = spawn(process.execPath, [S3RVER, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      resolve();
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        output.push(line);
        const listening = /^S3rver listening on [\d.]+:(\d+)$/.exec(line);
        if (listening?.[1] !== undefined) resolve(Number(listening[1]));
      });
    }
    void exited.then(() => {
      reject(new Error(`s3rver exited before listening:\n${output.join("\n")}`));
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: "us-east-1",
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return {
    endpoint,
    bucket,
    async keys(prefix) {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (page.Contents ?? []).map((object) => object.Key ?? "").sort();
    },
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async stop() {
      client.destroy();
      child.kill("SIGTERM");
      await exited;
    },
  };
}
