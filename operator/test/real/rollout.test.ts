import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import type { AIAssistant } from "../../src/api/types.generated.js";
import { chartNamespace, releaseName } from "../support/chart.js";
import { condition, readAIAssistant, waitForAIAssistant } from "../support/aiassistant.js";
import { eventually, kubeConfig } from "../support/kube.js";
import { ChatLoad, durationsWithin, quantile, type LoadReport } from "../support/load.js";
import { applySample, describeLoad, leaderPod, patchSpec, restrictedNamespace, rolloutEnded, serviceURL, waitUntilReady } from "../support/real-cluster.js";

const question = "My VPN connection drops every few minutes, what should I do?";
const leaderLease = `${releaseName}-leader`;

interface LoadedChange {
  report: LoadReport;
  /** From the change to the end of the rollout, on the load's clock. */
  window: { from: number; to: number };
  aia: AIAssistant;
}

/**
 * Applies `change` while `clients` keep chatting through the stable Service's ClusterIP, waits
 * until `done` holds, then keeps the load on until the pods of the other color are gone (their
 * drain included) and requests are answered again, and returns every request's outcome.
 */
async function underLoad(
  kc: k8s.KubeConfig,
  namespace: string,
  name: string,
  options: { clients: number; change: () => Promise<void>; done: (aia: AIAssistant) => boolean; during?: (load: ChatLoad) => Promise<void> },
): Promise<LoadedChange> {
  const load = new ChatLoad(`${await serviceURL(kc, namespace, name)}/api/v1/chat`, { clients: options.clients, message: question }).start();
  try {
    await eventually("the load to be answered", () => (load.count > 10 ? true : undefined));
    const from = load.elapsed;
    await options.change();
    await options.during?.(load);
    const aia = await waitForAIAssistant(kc, namespace, name, options.done, { what: `${name}'s rollout to end`, timeoutMs: 300_000 });
    const to = load.elapsed;
    const idle = aia.status?.activeColor === "blue" ? "green" : "blue";
    await eventually(
      `the ${idle} pods to be gone`,
      async () => {
        const pods = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/instance=${name},aiassistant.dev/color=${idle}` });
        return pods.items.length === 0 ? true : undefined;
      },
      { timeoutMs: 120_000 },
    );
    const settled = load.elapsed;
    await eventually("requests to be answered after the rollout", () => (load.answeredSince(settled) >= 10 ? true : undefined), { timeoutMs: 30_000 });
    return { report: await load.stop(), window: { from, to }, aia };
  } catch (error) {
    await load.stop();
    throw error;
  }
}

function report(what: string, change: LoadedChange): void {
  const during = durationsWithin(change.report, change.window.from, change.window.to);
  console.log(`      ${what}: ${describeLoad(change.report)}; during the rollout (${((change.window.to - change.window.from) / 1000).toFixed(1)} s): p99 ${quantile(during, 0.99).toFixed(0)} ms`);
}

describe("rollouts on a real node, under continuous chat load through the Service's ClusterIP", function () {
  this.timeout(600_000);
  const kc = kubeConfig();

  describe("blue-green (config/samples/aiassistant-postgres.yaml)", function () {
    let namespace: string;
    const name = "helpdesk";

    before(async function () {
      namespace = await restrictedNamespace(kc, "bluegreen");
      await applySample(namespace, "aiassistant-postgres.yaml");
      // A short scale-down delay keeps the tier quick; the old color still goes away under load.
      await patchSpec(namespace, name, { rollout: { scaleDownDelaySeconds: 5, abortScaleDownDelaySeconds: 5, progressDeadlineSeconds: 40 } });
      await waitUntilReady(kc, namespace, name, 300_000);
    });

    it("switches colors with 0 failed requests, the old color drained away under the load", async function () {
      const before = await readAIAssistant(kc, namespace, name);
      const change = await underLoad(kc, namespace, name, {
        clients: 4,
        change: () => patchSpec(namespace, name, { env: [{ name: "ROLLOUT_MARK", value: "switch" }] }),
        done: rolloutEnded("Completed", before.status?.stableRevision),
      });
      report("blue-green switch", change);
      assert.notEqual(change.aia.status?.activeColor, before.status?.activeColor);
      assert.deepEqual(change.report.failures, []);
    });

    it("aborts a revision that never becomes ready: traffic stays on the old color with 0 failed requests, and Degraded says why", async function () {
      const before = await readAIAssistant(kc, namespace, name);
      // An OpenAI-compatible model at a name no DNS knows: the new pods start, but /readyz fails.
      const change = await underLoad(kc, namespace, name, {
        clients: 4,
        change: () => patchSpec(namespace, name, { model: { provider: "openai", baseURL: "http://no-such-model.invalid/v1", name: "absent" } }),
        done: rolloutEnded("Aborted", before.status?.stableRevision),
      });
      report("aborted rollout", change);
      assert.equal(change.aia.status?.activeColor, before.status?.activeColor);
      assert.equal(condition(change.aia, "Degraded")?.status, "True");
      assert.equal(condition(change.aia, "Degraded")?.reason, "ProgressDeadlineExceeded");
      assert.deepEqual(change.report.failures, []);
      await patchSpec(namespace, name, { model: { provider: "extractive", baseURL: null, name: null } });
      await waitForAIAssistant(kc, namespace, name, (aia) => condition(aia, "Degraded")?.status === "False" && aia.status?.observedGeneration === aia.metadata.generation, {
        what: "Degraded to clear once the spec is back",
      });
    });

    it("finishes a rollout whose leading operator pod is force-deleted mid-way, with 0 failed requests", async function () {
      const before = await readAIAssistant(kc, namespace, name);
      const leader = await leaderPod(kc, chartNamespace, leaderLease);
      let successor = "";
      const change = await underLoad(kc, namespace, name, {
        clients: 4,
        change: () => patchSpec(namespace, name, { env: [{ name: "ROLLOUT_MARK", value: "failover" }] }),
        during: async () => {
          await waitForAIAssistant(kc, namespace, name, (aia) => aia.status?.lastRollout?.phase === "Progressing" && aia.status.lastRollout.revision !== before.status?.stableRevision, {
            what: "the rollout to start",
          });
          await kc.makeApiClient(k8s.CoreV1Api).deleteNamespacedPod({ name: leader, namespace: chartNamespace, gracePeriodSeconds: 0 });
          successor = await eventually("another operator pod to take the Lease", async () => {
            const holder = await leaderPod(kc, chartNamespace, leaderLease);
            return holder !== "" && holder !== leader ? holder : undefined;
          }, { timeoutMs: 60_000 });
        },
        done: rolloutEnded("Completed", before.status?.stableRevision),
      });
      report(`rollout finished by ${successor} after ${leader} was force-deleted`, change);
      assert.notEqual(change.aia.status?.activeColor, before.status?.activeColor);
      assert.deepEqual(change.report.failures, []);
    });

    it("grows from 2 to at least 3 replicas on real CPU (metrics-server, HPA, /scale), and a rollout then sizes both colors from that count", async function () {
      const before = await readAIAssistant(kc, namespace, name);
      const apps = kc.makeApiClient(k8s.AppsV1Api);
      let sized = { replicas: 0, preview: 0 };
      const change = await underLoad(kc, namespace, name, {
        clients: 8,
        change: () =>
          waitForAIAssistant(kc, namespace, name, (aia) => aia.spec.replicas >= 3, { what: "the HPA to raise spec.replicas through /scale", timeoutMs: 240_000 }).then(() =>
            patchSpec(namespace, name, { env: [{ name: "ROLLOUT_MARK", value: "scaled" }] }),
          ),
        during: async () => {
          sized = await eventually(
            "the preview color to be sized from the scaled count",
            async () => {
              const aia = await readAIAssistant(kc, namespace, name);
              const preview = aia.status?.previewColor;
              if (aia.status?.lastRollout?.phase !== "Progressing" || preview === undefined) return undefined;
              const deployment = await apps.readNamespacedDeployment({ name: `${name}-${preview}`, namespace });
              const replicas = deployment.spec?.replicas ?? 0;
              return replicas === aia.spec.replicas ? { replicas: aia.spec.replicas, preview: replicas } : undefined;
            },
            { timeoutMs: 120_000 },
          );
        },
        done: rolloutEnded("Completed", before.status?.stableRevision),
      });
      report("autoscaled rollout", change);
      console.log(`      HPA: 2 -> ${String(sized.replicas)} replicas; the preview color started with ${String(sized.preview)}`);
      assert.ok(sized.replicas >= 3);
      assert.equal(sized.preview, sized.replicas);
    });
  });

  describe("cutover (config/samples/aiassistant.yaml: embedded storage, one pod per volume)", function () {
    it("starts the new pod beside the stopping old one, which hands the volume over; clients are refused at once meanwhile, never left hanging", async function () {
      const namespace = await restrictedNamespace(kc, "cutover");
      await applySample(namespace, "aiassistant.yaml");
      await waitUntilReady(kc, namespace, "demo");
      const before = await readAIAssistant(kc, namespace, "demo");
      const change = await underLoad(kc, namespace, "demo", {
        clients: 2,
        change: () => patchSpec(namespace, "demo", { env: [{ name: "ROLLOUT_MARK", value: "cutover" }] }),
        done: rolloutEnded("Completed", before.status?.stableRevision),
      });
      const after = await readAIAssistant(kc, namespace, "demo");
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/instance=demo,aiassistant.dev/color=${after.status?.activeColor ?? ""}` });
      const log = await core.readNamespacedPodLog({ namespace, name: pods.items[0]?.metadata?.name ?? "" });
      const waited = log.split("\n").some((line) => line.includes("waiting for the process that has the data directory to stop"));
      console.log(
        `      cutover: ${describeLoad(change.report)}; longest stretch without an answer ${(change.report.longestGap / 1000).toFixed(1)} s; the new pod ${waited ? "waited for" : "found free"} the volume`,
      );
      const refusedAtOnce = new Set(["ECONNREFUSED", "ECONNRESET"]);
      assert.deepEqual(
        change.report.failures.filter((failure) => !refusedAtOnce.has(failure.outcome)),
        [],
      );
      const lastFailure = Math.max(...change.report.failures.map((failure) => failure.end));
      assert.ok(change.report.samples.some((sample) => sample.ok && sample.start > lastFailure), "the new pod answers");
    });
  });
});
