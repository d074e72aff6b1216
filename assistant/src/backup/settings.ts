import { resolve } from "node:path";
import { usageError } from "./errors.js";

export interface S3Settings {
  /** Set for S3-compatible servers, which are then addressed path-style. */
  endpoint: string | undefined;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface BackupSettings {
  dataDir: string;
  s3: S3Settings;
  /** Where this assistant's backups live: `BACKUP_S3_PREFIX` + `BACKUP_NAME` + "/". */
  folder: string;
  retentionCount: number | undefined;
  retentionDays: number | undefined;
}

type Env = Record<string, string | undefined>;

/** An empty variable counts as unset: manifests often render an absent value as "". */
function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

function required(env: Env, name: string, what: string): string {
  const value = optional(env, name);
  if (value === undefined) throw usageError(`${name} is not set: ${what}`);
  return value;
}

function positiveInteger(env: Env, name: string): number | undefined {
  const value = optional(env, name);
  if (value === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(value)) throw usageError(`${name} must be a whole number of at least 1, got "${value}"`);
  return Number(value);
}

function endpointOf(env: Env): string | undefined {
  const value = optional(env, "BACKUP_S3_ENDPOINT");
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`BACKUP_S3_ENDPOINT must be an http(s) URL, got "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw usageError(`BACKUP_S3_ENDPOINT must be an http(s) URL, got "${value}"`);
  return value;
}

/**
 * BACKUP_NAME is a folder such as `team-a/demo` (the operator passes `<namespace>/<name>`): plain path
 * segments only, so keys stay predictable and one assistant's folder can never contain another's.
 */
function nameOf(env: Env): string {
  const name = required(env, "BACKUP_NAME", "the folder of this assistant's backups, e.g. team-a/demo").replace(/\/$/, "");
  const segments = name.split("/");
  if (segments.some((segment) => !/^[A-Za-z0-9._-]+$/.test(segment) || segment === "." || segment === "..")) {
    throw usageError(`BACKUP_NAME must be path segments of letters, digits, ".", "_" and "-" separated by "/", got "${name}"`);
  }
  return `${name}/`;
}

/** Reads and checks the environment; every problem is a one-line message naming the variable. */
export function backupSettings(env: Env): BackupSettings {
  const bucket = required(env, "BACKUP_S3_BUCKET", "the bucket that holds the backups");
  if (bucket.includes("/")) throw usageError(`BACKUP_S3_BUCKET must be a bucket name without "/", got "${bucket}"`);
  return {
    dataDir: resolve(optional(env, "DATA_DIR") ?? "./data"),
    s3: {
      endpoint: endpointOf(env),
      region: optional(env, "BACKUP_S3_REGION") ?? "us-east-1",
      bucket,
      accessKeyId: required(env, "AWS_ACCESS_KEY_ID", "the access key of the bucket's credentials"),
      secretAccessKey: required(env, "AWS_SECRET_ACCESS_KEY", "the secret key of the bucket's credentials"),
    },
    folder: `${optional(env, "BACKUP_S3_PREFIX") ?? ""}${nameOf(env)}`,
    retentionCount: positiveInteger(env, "BACKUP_RETENTION_COUNT"),
    retentionDays: positiveInteger(env, "BACKUP_RETENTION_DAYS"),
  };
}
