import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments } from "yaml";
import { imageTag, operatorImage } from "../../src/api/images.js";
import { chartDir, renderChart } from "../support/chart.js";

const manifest = fileURLToPath(new URL("../../../../config/manager/manager.yaml", import.meta.url));

describe("image references", function () {
  it("config/manager deploys the operator image named in operator/src/api/images.ts", async function () {
    const documents = parseAllDocuments(await readFile(manifest, "utf8")).map((d) => d.toJS() as { kind: string; spec?: { template: { spec: { containers: { image: string }[] } } } });
    const deployment = documents.find((d) => d.kind === "Deployment");
    assert.equal(deployment?.spec?.template.spec.containers[0]?.image, operatorImage);
  });

  it("the Helm chart's appVersion is the image tag, and its default values deploy the operator image", async function () {
    const chart = parse(await readFile(`${chartDir}/Chart.yaml`, "utf8")) as { appVersion: string };
    assert.equal(chart.appVersion, imageTag);
    const rendered = (await renderChart()).find((o) => o.kind === "Deployment") as { spec?: { template: { spec: { containers: { image: string }[] } } } } | undefined;
    assert.equal(rendered?.spec?.template.spec.containers[0]?.image, operatorImage);
  });
});
