/**
 * Group commit. A commit costs the same whether it carries one write or fifty (the WAL append, and
 * with `synchronous = FULL` the fsync), so writes asked for while the event loop works through a
 * burst of requests are committed together, in one transaction on the loop's next turn. Each
 * caller's promise settles only after the transaction holding its write has committed, so whatever
 * it acknowledges is as durable as with a commit of its own.
 */
export interface GroupCommit<T> {
  /** Resolves once `item` is committed; rejects with its own error, or the batch's when the commit failed. */
  write(item: T): Promise<void>;
  /** Commits what is waiting now, e.g. before the database closes. */
  flush(): void;
}

interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * `commit` runs one transaction over all `items` and returns, for each, undefined when it was written
 * or the error that undid only that item (a savepoint); it throws when the transaction itself failed.
 */
export function groupCommit<T>(commit: (items: readonly T[]) => readonly unknown[]): GroupCommit<T> {
  let waiting: Waiting<T>[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const flush = (): void => {
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    const batch = waiting;
    waiting = [];
    if (batch.length === 0) return;
    let outcomes: readonly unknown[];
    try {
      outcomes = commit(batch.map((entry) => entry.item));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    batch.forEach((entry, index) => {
      const error = outcomes[index];
      if (error === undefined) entry.resolve();
      else entry.reject(error);
    });
  };
  return {
    write(item) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        // setImmediate runs after the I/O callbacks of this turn: every request read in it joins the batch.
        scheduled ??= setImmediate(flush);
      });
    },
    flush,
  };
}
