/**
 * `npm run generate` (after the other generators): writes the operator's RBAC, from the one list in
 * rbac.ts, into the Helm chart and config/rbac/. CI fails when the committed files differ.
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { rbacFiles } from "../src/api/rbac.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

for (const [path, render] of Object.entries(rbacFiles)) {
  await writeFile(`${root}${path}`, render());
  console.log(`wrote ${root}${path}`);
}
