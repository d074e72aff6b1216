import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import type { Logger } from "pino";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { BackupError } from "./errors.js";
import type { S3Settings } from "./settings.js";

export interface StoredObject {
  key: string;
  bytes: number;
}

/** The few S3 operations backups need, each failing with a one-line explanation. */
export interface ObjectStore {
  /** `s3://bucket/key`, for messages and logs. */
  url(key: string): string;
  list(prefix: string): Promise<StoredObject[]>;
  /** Streams the file up; the server rejects it unless its MD5 matches `md5` (base64). */
  upload(key: string, file: string, md5: string): Promise<void>;
  download(key: string): Promise<Readable>;
  remove(key: string): Promise<void>;
  /** Closes the connections it keeps alive. */
  close(): void;
}

const CREDENTIAL_ERRORS = new Set(["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken"]);

function hintFor(error: S3ServiceException): string {
  if (CREDENTIAL_ERRORS.has(error.name)) return " Check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's permissions.";
  if (error.name === "NoSuchBucket") return " Check BACKUP_S3_BUCKET.";
  return "";
}

/** Why an S3 call failed, without anything the credentials are made of (the SDK never puts them in errors). */
export function describeFailure(error: unknown): string {
  if (error instanceof S3ServiceException) {
    const message = /[.!?]$/.test(error.message) ? error.message : `${error.message}.`;
    return `${error.name} (HTTP ${String(error.$metadata.httpStatusCode ?? "?")}): ${message}${hintFor(error)}`;
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A refused dual-stack connection is an AggregateError with an empty message and only a code.
    if (code === undefined || error.message.includes(code)) return error.message === "" ? error.name : error.message;
    return error.message === "" ? code : `${code}: ${error.message}`;
  }
  return String(error);
}

export function createObjectStore(settings: S3Settings, logger: Logger): ObjectStore {
  const client = new S3Client({
    region: settings.region,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint, forcePathStyle: true }),
    // The SDK's default streams uploads with a trailing checksum (aws-chunked), which S3-compatible
    // servers do not all understand (s3rver stores the framing as part of the object). Content-MD5,
    // which every S3 implementation checks, guards the upload instead.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // An unreachable or stalled endpoint should fail this attempt (a Job retries) rather than hang.
    requestHandler: { connectionTimeout: 10_000, socketTimeout: 120_000 },
    // Without a logger the SDK prints warnings with console.warn, which would break the JSON log lines.
    // Its errors reach the caller, who reports them; its info and debug lines are per-request noise.
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (...content: unknown[]) => {
        logger.warn({ sdk: content }, "S3 client warning");
      },
      error: () => undefined,
    },
  });
  const url = (key: string): string => `s3://${settings.bucket}/${key}`;
  const attempt = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw new BackupError(`${what} failed: ${describeFailure(error)}`);
    }
  };
  const Bucket = settings.bucket;

  return {
    url,
    list(prefix) {
      return attempt(`listing ${url(prefix)}`, async () => {
        const objects: StoredObject[] = [];
        let ContinuationToken: string | undefined;
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken }));
          for (const { Key, Size } of page.Contents ?? []) {
            if (Key !== undefined) objects.push({ key: Key, bytes: Size ?? 0 });
          }
          ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
        } while (ContinuationToken !== undefined);
        return objects;
      });
    },
    upload(key, file, md5) {
      return attempt(`uploading ${url(key)}`, async () => {
        const { size } = await stat(file);
        await client.send(
          new PutObjectCommand({
            Bucket,
            Key: key,
            Body: createReadStream(file),
            ContentLength: size,
            ContentMD5: md5,
            ContentType: "application/gzip",
          }),
        );
      });
    },
    download(key) {
      return attempt(`downloading ${url(key)}`, async () => {
        const { Body } = await client.send(new GetObjectCommand({ Bucket, Key: key }));
        if (!(Body instanceof Readable)) throw new Error("the response has no body stream");
        return Body;
      });
    },
    remove(key) {
      return attempt(`deleting ${url(key)}`, async () => {
        await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
      });
    },
    close() {
      client.destroy();
    },
  };
}
