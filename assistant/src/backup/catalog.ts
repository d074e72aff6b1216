import type { ObjectStore } from "./object-store.js";

export interface Backup {
  key: string;
  bytes: number;
  /** From the key, not the object's modification time: a copied or re-uploaded backup keeps its age. */
  takenAt: Date;
}

const SUFFIX = ".db.gz";
const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** `20261128T153000Z`: sorts as text in time order and needs no escaping in a key. */
export function timestampOf(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z").replaceAll("-", "").replaceAll(":", "");
}

export function backupKey(folder: string, takenAt: Date): string {
  return `${folder}${timestampOf(takenAt)}${SUFFIX}`;
}

/** When the backup at `key` was taken, or undefined for any other object under the folder. */
export function takenAtOf(folder: string, key: string): Date | undefined {
  if (!key.startsWith(folder) || !key.endsWith(SUFFIX)) return undefined;
  const parts = STAMP.exec(key.slice(folder.length, -SUFFIX.length));
  if (parts === null) return undefined;
  const [, year, month, day, hour, minute, second] = parts.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return timestampOf(date) === key.slice(folder.length, -SUFFIX.length) ? date : undefined;
}

/** This assistant's backups, newest first; other objects under the folder are never touched. */
export async function listBackups(store: ObjectStore, folder: string): Promise<Backup[]> {
  const backups: Backup[] = [];
  for (const object of await store.list(folder)) {
    const takenAt = takenAtOf(folder, object.key);
    if (takenAt !== undefined) backups.push({ key: object.key, bytes: object.bytes, takenAt });
  }
  return backups.sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
}
