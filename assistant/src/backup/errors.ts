/**
 * A failure the backup tool explains in one line. `exitCode` 2 is a usage or configuration mistake
 * that retrying cannot fix (as the assistant's own start refuses a bad configuration); 1 is a
 * failure a Job retry may get past.
 */
export class BackupError extends Error {
  override readonly name = "BackupError";

  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

export const usageError = (message: string): BackupError => new BackupError(message, 2);
