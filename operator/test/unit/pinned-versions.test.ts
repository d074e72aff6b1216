import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../../", import.meta.url));

/** The go.mod files under hack/tools pin the binaries; the table in docs/development.md must say the same. */
const pins: Record<string, string> = {
  kubernetes: "k8s.io/kubernetes",
  etcd: "go.etcd.io/etcd/server/v3",
  kwok: "sigs.k8s.io/kwok",
  helm: "helm.sh/helm/v3",
  "metrics-server": "sigs.k8s.io/metrics-server",
  coredns: "github.com/coredns/coredns",
  "prometheus-operator": "github.com/prometheus-operator/prometheus-operator",
};

describe("pinned control-plane binaries", function () {
  for (const [tool, module] of Object.entries(pins)) {
    it(`docs/development.md states the ${tool} version hack/tools/${tool}/go.mod pins`, async function () {
      const goMod = await readFile(`${root}hack/tools/${tool}/go.mod`, "utf8");
      const pinned = new RegExp(`^(?:require )?\\s*${module.replaceAll(".", "\\.")} (v\\S+)`, "m").exec(goMod)?.[1];
      assert.ok(pinned, `no ${module} requirement in hack/tools/${tool}/go.mod`);
      const doc = await readFile(`${root}docs/development.md`, "utf8");
      assert.match(doc, new RegExp(`\\| ${tool} \\| \`${pinned.replaceAll(".", "\\.")}\` \\|`));
    });
  }
});
