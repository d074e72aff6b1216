import { listBackups } from "./catalog.js";
import type { ObjectStore } from "./object-store.js";
import type { BackupSettings } from "./settings.js";

/** Prints this assistant's backups newest first, one `KEY BYTES TAKEN` row each, as kubectl prints tables. */
export async function printBackups(settings: BackupSettings, store: ObjectStore, print: (line: string) => void): Promise<number> {
  const backups = await listBackups(store, settings.folder);
  const rows = [["KEY", "BYTES", "TAKEN"], ...backups.map((backup) => [backup.key, String(backup.bytes), backup.takenAt.toISOString().replace(".000Z", "Z")])];
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  for (const row of rows) print(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("   ").trimEnd());
  return backups.length;
}
