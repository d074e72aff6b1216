/**
 * The SQL written once for both stores (storage/sql/) marks each parameter `?`, as SQLite does;
 * Postgres wants `$1`, `$2`, … in their order. None of that SQL holds a `?` of its own (a string, or
 * jsonb's operator), so every one is a parameter.
 */
export function numbered(sql: string): string {
  let next = 0;
  return sql.replaceAll("?", () => `$${String((next += 1))}`);
}
