import { parseArgs } from "node:util";
import type { Logger } from "pino";
import { createMasker } from "../masking/mask.js";
import { createLogger } from "../observability/logger.js";
import { takeBackup } from "./backup.js";
import { BackupError, usageError } from "./errors.js";
import { printBackups } from "./list.js";
import { createObjectStore } from "./object-store.js";
import { restoreBackup, type RestoreOptions } from "./restore.js";
import { backupSettings } from "./settings.js";

const USAGE = "usage: node dist/src/backup/main.js backup | restore [--key <object key> | --latest] [--no-keep] | list";

type Command = { name: "backup" } | { name: "list" } | { name: "restore"; options: RestoreOptions };

function parseCommand(argv: string[]): Command {
  const [name, ...rest] = argv;
  if (name !== "backup" && name !== "restore" && name !== "list") {
    throw usageError(name === undefined ? USAGE : `unknown command "${name}"; ${USAGE}`);
  }
  let values: { key?: string | undefined; latest?: boolean | undefined; "no-keep"?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: name === "restore" ? { key: { type: "string" }, latest: { type: "boolean" }, "no-keep": { type: "boolean" } } : {},
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw usageError(`${(error as Error).message}; ${USAGE}`);
  }
  if (name !== "restore") return { name };
  if (values.key !== undefined && values.latest === true) throw usageError(`--key and --latest exclude each other; ${USAGE}`);
  if (values.key === "") throw usageError("--key needs an object key, as `list` prints it");
  return { name, options: { key: values.key, keep: values["no-keep"] !== true } };
}

function loggerFrom(level: string): Logger {
  try {
    return createLogger(level, createMasker("mask", []));
  } catch {
    throw usageError(`LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "${level}"`);
  }
}

/** Runs one command; a failure ends it with a one-line reason on stderr and a non-zero exit code. */
async function main(argv: string[]): Promise<number> {
  const label = argv[0] ?? "backup";
  let logger: Logger | undefined;
  try {
    const command = parseCommand(argv);
    logger = loggerFrom(process.env["LOG_LEVEL"] ?? "info");
    const settings = backupSettings(process.env);
    const store = createObjectStore(settings.s3, logger);
    try {
      if (command.name === "backup") await takeBackup(settings, store, logger);
      else if (command.name === "restore") await restoreBackup(settings, store, logger, command.options);
      else if ((await printBackups(settings, store, (line) => process.stdout.write(`${line}\n`))) === 0) {
        process.stderr.write(`no backups under ${store.url(settings.folder)}\n`);
      }
    } finally {
      store.close();
    }
    return 0;
  } catch (error) {
    if (error instanceof BackupError) {
      process.stderr.write(`${label}: ${error.message}\n`);
      return error.exitCode;
    }
    logger?.error({ err: error }, "unexpected failure");
    process.stderr.write(`${label}: unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
