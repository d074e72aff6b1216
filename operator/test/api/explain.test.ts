import assert from "node:assert/strict";
import { specSchema, type JsonSchema } from "../../src/api/schema.js";
import { installCRD, kubectl } from "../support/crd.js";
import { eventually, kubeConfig } from "../support/kube.js";

/** Every field under spec, as `kubectl explain` names it (list items by the list's name), with its description. */
function fields(schema: JsonSchema, path: string): { path: string; description: string }[] {
  const properties = (schema["properties"] ?? {}) as Record<string, JsonSchema>;
  return Object.entries(properties).flatMap(([name, child]) => {
    const childPath = `${path}.${name}`;
    const items = child["items"] as JsonSchema | undefined;
    const nested = child["type"] === "array" && items ? items : child;
    const description = typeof child["description"] === "string" ? child["description"] : "";
    return [{ path: childPath, description }, ...fields(nested, childPath)];
  });
}

describe("kubectl explain on the AIAssistant CRD", function () {
  this.timeout(180_000);

  it("explains every field of the spec with the schema's description", async function () {
    await installCRD(kubeConfig());
    // The API server publishes a CRD's OpenAPI a moment after the CRD is established.
    await eventually("kubectl explain to know the CRD", () => kubectl("explain", "aiassistants.spec").catch(() => undefined));
    const all = fields(specSchema, "aiassistants.spec");
    assert.ok(all.length > 100, `${String(all.length)} fields`);
    const undescribed: string[] = [];
    const pending = [...all];
    // A few kubectl processes at once: one per field would take minutes in a row.
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let field = pending.shift(); field !== undefined; field = pending.shift()) {
          const output = await kubectl("explain", field.path);
          const described = /DESCRIPTION:\n([\s\S]*?)(\n\n|\nFIELDS:|$)/.exec(output)?.[1]?.replaceAll(/\s+/g, " ").trim() ?? "";
          const expected = field.description.replaceAll(/\s+/g, " ").trim();
          if (expected === "" || !described.startsWith(expected.slice(0, 60))) undescribed.push(`${field.path}: ${JSON.stringify(described.slice(0, 80))}`);
        }
      }),
    );
    assert.deepEqual(undescribed, []);
  });
});
