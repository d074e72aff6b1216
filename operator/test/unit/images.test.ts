import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { operatorImage } from "../../src/api/images.js";

const manifest = fileURLToPath(new URL("../../../../config/manager/manager.yaml", import.meta.url));

describe("image references", function () {
  it("config/manager deploys the operator image named in operator/src/api/images.ts", async function () {
    const documents = parseAllDocuments(await readFile(manifest, "utf8")).map((d) => d.toJS() as { kind: string; spec?: { template: { spec: { containers: { image: string }[] } } } });
    const deployment = documents.find((d) => d.kind === "Deployment");
    assert.equal(deployment?.spec?.template.spec.containers[0]?.image, operatorImage);
  });
});
