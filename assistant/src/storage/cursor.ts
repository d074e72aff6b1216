import { InvalidCursorError, type Page } from "./types.js";

/** A page cursor: the last item's sort key (a conversation's update time, a document's source) and id, opaque to clients. */
export function encodeCursor(key: string, id: string): string {
  return Buffer.from(JSON.stringify([key, id])).toString("base64url");
}

export function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "string") {
      return [value[0], value[1]];
    }
  } catch {
    // falls through to the error below: a cursor the client made up is a client error
  }
  throw new InvalidCursorError("cursor is not one this service issued");
}

/** The page of `rows` (fetched with `limit + 1` to learn whether more follow), with the cursor after its last item. */
export function pageOf<T>(rows: readonly T[], limit: number, sortKey: (row: T) => [string, string]): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(...sortKey(last)) : null };
}
