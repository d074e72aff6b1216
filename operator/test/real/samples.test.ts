import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { eventually, kubeConfig } from "../support/kube.js";
import { applySample, chat, conversationTurns, restrictedNamespace, serviceURL, waitUntilReady } from "../support/real-cluster.js";

/** The pods of an AIAssistant (its two colors). */
async function assistantPods(kc: k8s.KubeConfig, namespace: string, name: string): Promise<k8s.V1Pod[]> {
  const list = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/instance=${name}` });
  return list.items;
}

/** Every pod Running in containerd, its container ready: real probes passed. */
function assertRunningInContainerd(pods: k8s.V1Pod[], count: number): void {
  const running = pods.filter((pod) => !pod.metadata?.deletionTimestamp);
  assert.equal(running.length, count);
  for (const pod of running) {
    const status = pod.status?.containerStatuses?.[0];
    assert.equal(pod.status?.phase, "Running");
    assert.equal(status?.ready, true);
    assert.match(status?.containerID ?? "", /^containerd:\/\/[0-9a-f]{64}$/);
  }
}

/** Deletes the pods and waits until the AIAssistant serves from new ones behind its Service. */
async function replacePods(kc: k8s.KubeConfig, namespace: string, name: string): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const old = (await assistantPods(kc, namespace, name)).map((pod) => pod.metadata?.name ?? "");
  for (const pod of old) await core.deleteNamespacedPod({ name: pod, namespace });
  await eventually(
    "new pods to serve",
    async () => {
      const pods = await assistantPods(kc, namespace, name);
      const fresh = pods.filter((pod) => !old.includes(pod.metadata?.name ?? "") && pod.status?.containerStatuses?.[0]?.ready);
      return fresh.length === old.length && pods.length === old.length ? true : undefined;
    },
    { timeoutMs: 120_000 },
  );
}

/** No pod the namespace's controllers tried to create was refused (Pod Security admission included). */
async function assertNoRefusedPods(kc: k8s.KubeConfig, namespace: string): Promise<void> {
  const events = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedEvent({ namespace });
  const refused = events.items.filter((event) => event.reason === "FailedCreate").map((event) => event.message);
  assert.deepEqual(refused, []);
}

describe("the samples on a real node", function () {
  this.timeout(300_000);
  const kc = kubeConfig();

  describe("config/samples/aiassistant.yaml (embedded storage)", function () {
    let namespace: string;
    let baseURL: string;

    it("becomes Ready in a restricted namespace: its pod runs in containerd, passes real probes, its volume binds, it answers through the ClusterIP", async function () {
      namespace = await restrictedNamespace(kc, "sample");
      await applySample(namespace, "aiassistant.yaml");
      await waitUntilReady(kc, namespace, "demo");
      assertRunningInContainerd(await assistantPods(kc, namespace, "demo"), 1);
      const claim = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedPersistentVolumeClaim({ name: "demo-data", namespace });
      assert.equal(claim.status?.phase, "Bound");
      assert.equal(claim.spec?.storageClassName, "local-path", "the node's default StorageClass provisioned it");
      baseURL = await serviceURL(kc, namespace, "demo");
      const answer = await chat(baseURL, "My VPN connection drops every few minutes, what should I do?");
      assert.match(answer.reply, /IKEv2/);
      assert.deepEqual(
        answer.sources.map((source) => source.title),
        ["VPN access"],
      );
      await assertNoRefusedPods(kc, namespace);
    });

    it("keeps the conversation on its volume when its pod is deleted", async function () {
      const first = await chat(baseURL, "My VPN connection drops every few minutes, what should I do?");
      await chat(baseURL, "每年有几天带薪年假？", first.conversationId);
      await replacePods(kc, namespace, "demo");
      await waitUntilReady(kc, namespace, "demo");
      const turns = await eventually("the new pod to answer", () => conversationTurns(baseURL, first.conversationId).catch(() => undefined));
      assert.deepEqual(
        turns.filter((turn) => turn.role === "user").map((turn) => turn.content),
        ["My VPN connection drops every few minutes, what should I do?", "每年有几天带薪年假？"],
      );
    });
  });

  describe("config/samples/aiassistant-postgres.yaml (Postgres + pgvector, two stateless replicas)", function () {
    let namespace: string;
    let baseURL: string;

    it("becomes Ready in a restricted namespace with two pods in containerd, Postgres on a bound volume, answering through the ClusterIP", async function () {
      namespace = await restrictedNamespace(kc, "postgres-sample");
      await applySample(namespace, "aiassistant-postgres.yaml");
      await waitUntilReady(kc, namespace, "helpdesk", 300_000);
      const pods = await assistantPods(kc, namespace, "helpdesk");
      assertRunningInContainerd(pods, 2);
      // The sample's 512Mi limit sizes V8's young generation; the pods are ready, so the image's Node took it.
      for (const pod of pods) {
        const env = pod.spec?.containers.find((container) => container.name === "assistant")?.env ?? [];
        assert.equal(env.find((variable) => variable.name === "NODE_OPTIONS")?.value, "--max-semi-space-size=16");
      }
      const claim = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedPersistentVolumeClaim({ name: "data-assistant-postgres-0", namespace });
      assert.equal(claim.status?.phase, "Bound");
      baseURL = await serviceURL(kc, namespace, "helpdesk");
      const answer = await chat(baseURL, "每年有几天带薪年假？");
      assert.match(answer.reply, /十五天/);
      await assertNoRefusedPods(kc, namespace);
    });

    it("keeps the conversation in Postgres when both pods are replaced", async function () {
      const first = await chat(baseURL, "My VPN connection drops every few minutes, what should I do?");
      await replacePods(kc, namespace, "helpdesk");
      await waitUntilReady(kc, namespace, "helpdesk");
      const turns = await eventually("the new pods to answer", () => conversationTurns(baseURL, first.conversationId).catch(() => undefined));
      assert.equal(turns.length, 2);
    });
  });
});
