import type { Backup } from "./catalog.js";

export interface RetentionPolicy {
  /** Keep at most this many, the newest. */
  count: number | undefined;
  /** Delete backups taken more than this many days ago. */
  days: number | undefined;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The backups the policy lets go, from `backups` newest first. `justTaken` is never among them, even
 * when a clock-skewed older run left a key that sorts after it: losing the newest good copy to
 * retention would be worse than keeping one too many.
 */
export function expiredBackups(backups: readonly Backup[], policy: RetentionPolicy, now: Date, justTaken: string): Backup[] {
  const oldestKept = policy.days === undefined ? undefined : now.getTime() - policy.days * DAY_MS;
  return backups.filter((backup, rank) => {
    if (backup.key === justTaken) return false;
    const tooMany = policy.count !== undefined && rank >= policy.count;
    const tooOld = oldestKept !== undefined && backup.takenAt.getTime() < oldestKept;
    return tooMany || tooOld;
  });
}
