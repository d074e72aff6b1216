import { InvalidCursorError } from "./types.js";

/** A page cursor: the last conversation's update time and id, opaque to clients. */
export function encodeCursor(updatedAt: string, id: string): string {
  return Buffer.from(JSON.stringify([updatedAt, id])).toString("base64url");
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
