/** The query of a paginated list: how many items (`limit`), and where the previous page ended (its `nextCursor`). */
export interface PageQuery {
  limit?: number;
  cursor?: string;
}

/** The query schema of a paginated list; a cursor carries the last item's sort key, so its bound depends on the list. */
export function pageQuerystring(maxPageSize: number, cursorMaxLength: number) {
  return {
    type: "object",
    additionalProperties: false,
    properties: {
      limit: { type: "integer", minimum: 1, maximum: maxPageSize },
      cursor: { type: "string", maxLength: cursorMaxLength, description: "nextCursor of the previous page" },
    },
  } as const;
}

/** The answer schema of a paginated list: a page of `item`s, and the cursor of the next page (null after the last). */
export function pageResponse<Item extends object>(item: Item) {
  return {
    type: "object",
    required: ["items", "nextCursor"],
    properties: { items: { type: "array", items: item }, nextCursor: { type: ["string", "null"] } },
  } as const;
}
