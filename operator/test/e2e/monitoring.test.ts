import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { prometheusRule, serviceMonitor } from "../../src/resources/monitoring.js";
import { defaultedAIAssistant } from "../support/aiassistant.js";
import { installPrometheusOperatorCRDs } from "../support/crd.js";
import { createNamespace, kubeConfig, plain } from "../support/kube.js";

describe("the monitoring objects the operator builds, against the Prometheus Operator's CRDs", function () {
  this.timeout(120_000);

  it("are admitted, and the API server keeps every field (none is unknown to the schema and pruned)", async function () {
    const kc = kubeConfig();
    await installPrometheusOperatorCRDs(kc);
    const namespace = await createNamespace(kc, "monitoring");
    const aia = defaultedAIAssistant({ monitoring: { enabled: true, labels: { release: "prometheus" } } }, "demo", namespace);
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    for (const built of [serviceMonitor(aia), prometheusRule(aia)]) {
      assert.ok(built);
      // Its owner does not exist here: the garbage collector deletes it later, the API server admits it now.
      const stored = plain(await objects.create(built));
      assert.deepEqual(stored.spec, built.spec, `${built.kind} as stored`);
      assert.equal(stored.metadata?.labels?.["release"], "prometheus");
    }
  });
});
