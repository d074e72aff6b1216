import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import type { AIAssistant } from "../../src/api/types.generated.js";
import { aiAssistants, condition, converged, createAIAssistant, waitForAIAssistant } from "../support/aiassistant.js";
import { writesSince } from "../support/audit.js";
import { installCRD } from "../support/crd.js";
import { apiError, createNamespace, eventually, kubeConfig, plain } from "../support/kube.js";
import { OperatorProcess, printOperatorLogIfFailed } from "../support/operator-process.js";
import { hostileSpecs } from "../support/hostile-specs.js";

const { group, version, plural } = aiAssistants;

describe("security of what the operator writes", function () {
  this.timeout(120_000);
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let custom: k8s.CustomObjectsApi;
  let namespace: string;
  let operator: OperatorProcess;

  before(async function () {
    kc = kubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await installCRD(kc);
    namespace = await createNamespace(kc, "security");
    operator = await new OperatorProcess({ WATCH_NAMESPACES: namespace }).start();
  });

  after(async function () {
    await operator.stop();
  });

  afterEach(function () {
    printOperatorLogIfFailed(this.currentTest, operator);
  });

  const create = (name: string, spec: Record<string, unknown>) => createAIAssistant(kc, namespace, name, spec);

  it("never copies a Secret's value into any object, status, Event or log line it writes", async function () {
    const planted = Object.fromEntries(["model", "postgres", "apiKeys", "skill"].map((what) => [what, `planted-${what}-${randomBytes(12).toString("hex")}`]));
    const secret = (name: string, data: Record<string, string>) => core.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData: data } });
    await secret("llm", { apiKey: planted["model"] ?? "" });
    await secret("pg", { url: `postgres://assistant:${planted["postgres"] ?? ""}@pg.db.svc:5432/assistant` });
    await secret("keys", { ops: planted["apiKeys"] ?? "" });
    await secret("erp", { authorization: `Bearer ${planted["skill"] ?? ""}` });
    await create("guarded", {
      model: { provider: "openai", baseURL: "http://vllm.models.svc:8000/v1", name: "qwen", apiKeySecretRef: { name: "llm" } },
      storage: { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } },
      auth: { mode: "apiKey", apiKeysSecretRef: { name: "keys" } },
      skills: [{ name: "order", description: "Look up an order", endpoint: { url: "http://10.20.30.40:9000/orders" }, authSecretRef: { name: "erp" } }],
      ingress: { enabled: true, host: "chat.example.com", className: "nginx", tls: { clusterIssuer: "letsencrypt" } },
      networkPolicy: {
        enabled: true,
        ingressFrom: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }],
        egressTo: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "db" } }, port: 5432 }],
        egressCIDRs: ["203.0.113.0/24"],
      },
    });
    const aia = await waitForAIAssistant(kc, namespace, "guarded", converged);

    const apis = {
      apps: kc.makeApiClient(k8s.AppsV1Api),
      networking: kc.makeApiClient(k8s.NetworkingV1Api),
      autoscaling: kc.makeApiClient(k8s.AutoscalingV2Api),
      policy: kc.makeApiClient(k8s.PolicyV1Api),
    };
    const labelSelector = "app.kubernetes.io/instance=guarded";
    const written = await Promise.all([
      core.listNamespacedServiceAccount({ namespace, labelSelector }),
      core.listNamespacedConfigMap({ namespace, labelSelector }),
      core.listNamespacedService({ namespace, labelSelector }),
      apis.apps.listNamespacedDeployment({ namespace, labelSelector }),
      apis.networking.listNamespacedIngress({ namespace, labelSelector }),
      apis.networking.listNamespacedNetworkPolicy({ namespace, labelSelector }),
      apis.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace, labelSelector }),
      apis.policy.listNamespacedPodDisruptionBudget({ namespace, labelSelector }),
      core.listNamespacedEvent({ namespace }),
    ]);
    const kinds = written.map((list) => list.items.length);
    assert.ok(kinds.slice(0, 6).every((n) => n > 0), `every kind was written: ${kinds.join(",")}`);
    const everything = JSON.stringify([written, aia.status]) + operator.output;
    for (const [what, value] of Object.entries(planted)) assert.ok(!everything.includes(value), `the ${what} Secret's value leaked`);

    const deployment = written[3].items.find((d) => d.metadata?.name === "guarded-blue");
    const env = deployment?.spec?.template.spec?.containers[0]?.env ?? [];
    assert.deepEqual(plain(env.find((e) => e.name === "DATABASE_URL")?.valueFrom?.secretKeyRef), { name: "pg", key: "url" }, "by reference");
    assert.ok(deployment?.spec?.template.spec?.volumes?.some((v) => v.secret?.secretName === "keys"), "API keys arrive as a mounted Secret");
  });

  it("exposes an Ingress over HTTPS only and a default-deny NetworkPolicy with exactly the spec's openings", async function () {
    const networking = kc.makeApiClient(k8s.NetworkingV1Api);
    const ingress = plain(await networking.readNamespacedIngress({ name: "guarded", namespace }));
    assert.deepEqual(ingress.spec?.tls, [{ hosts: ["chat.example.com"], secretName: "guarded-tls" }]);
    assert.equal(ingress.spec?.ingressClassName, "nginx");
    assert.equal(ingress.metadata?.annotations?.["cert-manager.io/cluster-issuer"], "letsencrypt");
    assert.equal(ingress.metadata?.annotations?.["nginx.ingress.kubernetes.io/force-ssl-redirect"], "true");
    assert.equal(ingress.spec?.rules?.[0]?.http?.paths[0]?.backend.service?.name, "guarded");

    // Read as raw JSON: client-node's model would rename `from`.
    const policy = (await kc.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject({ group: "networking.k8s.io", version: "v1", plural: "networkpolicies", namespace, name: "guarded" })) as {
      spec: { policyTypes: string[]; ingress: { from: unknown[]; ports: unknown[] }[]; egress: { to: unknown[]; ports?: unknown[] }[] };
    };
    assert.deepEqual(policy.spec.policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(policy.spec.ingress, [
      { from: [{ podSelector: {} }, { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }], ports: [{ protocol: "TCP", port: "http" }] },
    ]);
    assert.deepEqual(policy.spec.egress, [
      { to: [{ namespaceSelector: {} }], ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] },
      // The pod's port is unknown behind a Service (the policy sees it after translation): the namespace, any port.
      { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "models" } } }] },
      { to: [{ ipBlock: { cidr: "10.20.30.40/32" } }], ports: [{ protocol: "TCP", port: 9000 }] },
      { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "db" } } }], ports: [{ protocol: "TCP", port: 5432 }] },
      { to: [{ ipBlock: { cidr: "203.0.113.0/24" } }] },
    ]);

    const since = new Date();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.deepEqual((await writesSince(namespace, since)).map((w) => `${w.verb} ${w.requestURI}`), [], "converged: nothing rewritten");

    await custom.patchNamespacedCustomObject(
      { group, version, namespace, plural, name: "guarded", body: { spec: { ingress: { enabled: false }, networkPolicy: { enabled: false } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await eventually("the Ingress and NetworkPolicy to go", async () => {
      const [ingresses, policies] = await Promise.all([networking.listNamespacedIngress({ namespace }), networking.listNamespacedNetworkPolicy({ namespace })]);
      return ingresses.items.length + policies.items.length === 0 ? true : undefined;
    });
  });

  it("refuses a Secret reference into another namespace: Degraded, a Warning Event, nothing deployed", async function () {
    await create("foreign", { model: { provider: "openai", baseURL: "http://vllm.models.svc:8000/v1", name: "qwen", apiKeySecretRef: { name: "llm", namespace: "kube-system" } } });
    const refused = await waitForAIAssistant(kc, namespace, "foreign", (aia) => condition(aia, "Degraded")?.reason === "CrossNamespaceReference");
    assert.match(condition(refused, "Degraded")?.message ?? "", /spec\.model\.apiKeySecretRef: Secret kube-system\/llm is in another namespace/);
    // The Event follows the status write that made Degraded visible.
    const event = await eventually("the CrossNamespaceReference Event", async () => {
      const events = await core.listNamespacedEvent({ namespace, fieldSelector: "involvedObject.name=foreign,reason=CrossNamespaceReference" });
      return events.items[0];
    });
    assert.equal(event.type, "Warning");
    const deployments = await kc.makeApiClient(k8s.AppsV1Api).listNamespacedDeployment({ namespace, labelSelector: "app.kubernetes.io/instance=foreign" });
    assert.equal(deployments.items.length, 0);
  });

  it("turns hundreds of hostile manifests into clear rejections or a Degraded condition, without crashing or looping hot", async function () {
    // The base spec's knowledge ConfigMap exists, so what admission lets through is applied for real.
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "hb" }, data: { "faq.md": "# FAQ" } } });
    const specs = hostileSpecs(400, 7);
    const outcomes = { rejected: 0, accepted: 0 };
    const accepted: string[] = [];
    for (const [i, spec] of specs.entries()) {
      const name = `fuzz-${String(i)}`;
      try {
        await create(name, spec);
        outcomes.accepted++;
        accepted.push(name);
      } catch (error) {
        const { code, message } = apiError(error);
        assert.ok(code === 400 || code === 422, `case ${String(i)} got HTTP ${String(code)}: ${message}`);
        assert.ok(message.length > 0 && !/internal error/i.test(message), `case ${String(i)}: a clear message`);
        outcomes.rejected++;
      }
    }
    // Every accepted one is looked at: status for its generation, Degraded with a reason when it can't be served.
    const verdicts = new Map<string, string>();
    for (const name of accepted) {
      const aia: AIAssistant = await waitForAIAssistant(kc, namespace, name, (a) => a.status?.observedGeneration === a.metadata.generation, { timeoutMs: 60_000 });
      const degraded = condition(aia, "Degraded");
      verdicts.set(name, degraded?.status === "True" ? `Degraded/${degraded.reason}` : "reconciled");
    }
    const reconcileTotal = async () => {
      const text = await (await operator.get("/metrics")).text();
      return [...text.matchAll(/^controller_runtime_reconcile_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    };
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const before = await reconcileTotal();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const idleReconciles = (await reconcileTotal()) - before;
    const tally = [...verdicts.values()].reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});
    console.log(`      hostile manifests: ${String(specs.length)}; rejected at admission: ${String(outcomes.rejected)}; accepted: ${String(outcomes.accepted)} ${JSON.stringify(tally)}; reconciles in a 5 s idle window: ${String(idleReconciles)}`);
    assert.ok(operator.running, "the operator is still running");
    assert.ok(idleReconciles <= 3 * accepted.length + 10, `no hot loop: ${String(idleReconciles)} reconciles in 5 s for ${String(accepted.length)} objects`);
    assert.ok(outcomes.rejected > specs.length / 2, "most hostile manifests are stopped at admission");
  });
});
