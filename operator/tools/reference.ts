import type { JsonSchema } from "../src/api/schema.js";

const header = ["| field | type | default | description |", "| --- | --- | --- | --- |"];

/**
 * The spec reference table for docs/crd-reference.md, rendered from the schema so the documentation can't
 * drift from the API: one row per field, with its type, default and description, plus the
 * cross-field rules the API server enforces.
 */
export function referenceTable(resource: JsonSchema): string {
  const rows: string[] = [];
  const rules = ((resource["x-kubernetes-validations"] ?? []) as { message: string }[]).map((rule) => `the object: ${rule.message}`);
  const properties = (resource["properties"] ?? {}) as Record<string, JsonSchema>;
  walk(properties["spec"] ?? {}, "spec", rows, rules);
  oneRowPerField(rows);
  return [...header, ...rows, "", "Rules the API server enforces at admission (CEL):", "", ...rules.map((r) => `- ${r}`)].join("\n");
}

/** The same table for any JSON Schema whose nodes carry a description and a default (the Helm chart's values). */
export function fieldTable(schema: JsonSchema): string {
  const rows: string[] = [];
  walk(schema, "", rows, []);
  oneRowPerField(rows);
  return [...header, ...rows].join("\n");
}

/** Each field has one row: a path written twice means the walk visited a node twice. */
function oneRowPerField(rows: string[]): void {
  const seen = new Set<string>();
  for (const row of rows) {
    const path = row.split(" | ")[0] ?? row;
    if (seen.has(path)) throw new Error(`the reference table has two rows for ${path.slice(2)}`);
    seen.add(path);
  }
}

function typeOf(schema: JsonSchema): string {
  if (schema["x-kubernetes-int-or-string"] === true) return "quantity";
  const type = schema["type"];
  if (type === "array") {
    const items = (schema["items"] ?? {}) as JsonSchema;
    return `[]${typeOf(items)}`;
  }
  if (type === "object" && typeof schema["additionalProperties"] === "object") return "map";
  const values = schema["enum"] as unknown[] | undefined;
  if (values) return values.map((v) => `\`${String(v)}\``).join(" \\| ");
  return typeof type === "string" ? type : "object";
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function walk(schema: JsonSchema, path: string, rows: string[], rules: string[]): void {
  for (const rule of (schema["x-kubernetes-validations"] ?? []) as { message: string }[]) rules.push(`\`${path}\`: ${rule.message}`);
  const properties = schema["properties"] as Record<string, JsonSchema> | undefined;
  if (!properties) return;
  for (const [name, child] of Object.entries(properties)) {
    const childPath = path === "" ? name : `${path}.${name}`;
    const defaultValue = child["default"];
    // An object with fields of its own shows their defaults in their rows.
    const shownDefault = defaultValue === undefined || child["properties"] !== undefined ? "" : `\`${JSON.stringify(defaultValue)}\``;
    rows.push(`| \`${childPath}\` | ${typeOf(child)} | ${shownDefault} | ${cell(typeof child["description"] === "string" ? child["description"] : "")} |`);
    const items = child["items"] as JsonSchema | undefined;
    if (child["type"] === "array" && items?.["properties"]) walk(items, `${childPath}[]`, rows, rules);
    else walk(child, childPath, rows, rules);
  }
}
