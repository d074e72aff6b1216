import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { aiAssistants, condition, createAIAssistant, waitForAIAssistant } from "../support/aiassistant.js";
import { writesSince } from "../support/audit.js";
import { installCRD, installPrometheusOperatorCRDs } from "../support/crd.js";
import { createNamespace, eventually, isGone, kubeConfig } from "../support/kube.js";
import { OperatorProcess, printOperatorLogIfFailed } from "../support/operator-process.js";

const { group, version, plural } = aiAssistants;

describe("an assistant's ServiceMonitor and PrometheusRule", function () {
  this.timeout(120_000);
  let kc: k8s.KubeConfig;
  let custom: k8s.CustomObjectsApi;
  let namespace: string;
  let operator: OperatorProcess;

  before(async function () {
    kc = kubeConfig();
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await installCRD(kc);
    namespace = await createNamespace(kc, "monitored");
    operator = await new OperatorProcess({ WATCH_NAMESPACES: namespace, MONITORING_DISCOVERY_SECONDS: "2" }).start();
  });

  after(async function () {
    await operator.stop();
  });

  afterEach(function () {
    printOperatorLogIfFailed(this.currentTest, operator);
  });

  const monitoringCondition = (reason: string) =>
    waitForAIAssistant(kc, namespace, "watched", (aia) => aia.status?.observedGeneration === aia.metadata.generation && condition(aia, "Monitoring")?.reason === reason, {
      what: `Monitoring ${reason}`,
      timeoutMs: 60_000,
    });
  const read = (resource: "servicemonitors" | "prometheusrules") =>
    custom.getNamespacedCustomObject({ group: "monitoring.coreos.com", version: "v1", plural: resource, namespace, name: "watched" }) as Promise<k8s.KubernetesObject>;

  it("says so when the Prometheus Operator's CRDs are missing, and creates both once they are installed", async function () {
    await createAIAssistant(kc, namespace, "watched", { monitoring: { enabled: true, labels: { release: "prometheus" } } });
    const skipped = await monitoringCondition("CRDsNotInstalled");
    assert.equal(condition(skipped, "Monitoring")?.status, "False");
    assert.equal(condition(skipped, "Degraded")?.status, "False", "not a failure: the rest is served");

    await installPrometheusOperatorCRDs(kc);
    const applied = await monitoringCondition("Applied");
    const [monitor, rule] = await Promise.all([read("servicemonitors"), read("prometheusrules")]);
    for (const object of [monitor, rule]) {
      assert.equal(object.metadata?.labels?.["release"], "prometheus");
      assert.equal(object.metadata?.ownerReferences?.[0]?.uid, applied.metadata.uid);
    }
    assert.match(JSON.stringify(rule), /AIAssistantHighErrorRate/);

    const since = new Date();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    assert.deepEqual((await writesSince(namespace, since)).map((w) => `${w.verb} ${w.requestURI}`), [], "converged: nothing rewritten");
  });

  it("deletes both when monitoring is turned off", async function () {
    await custom.patchNamespacedCustomObject(
      { group, version, namespace, plural, name: "watched", body: { spec: { monitoring: { enabled: false } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await monitoringCondition("Disabled");
    await eventually("both objects to go", async () => ((await isGone(read("servicemonitors"))) && (await isGone(read("prometheusrules"))) ? true : undefined));
  });
});
