import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { apiError, createNamespace, kubeConfig } from "../support/kube.js";
import { aiAssistants } from "../support/aiassistant.js";
import { installCRD } from "../support/crd.js";
import type { AIAssistant } from "../../src/api/types.generated.js";

const { group, version, plural } = aiAssistants;

describe("the AIAssistant CRD on a real API server", function () {
  let kc: k8s.KubeConfig;
  let custom: k8s.CustomObjectsApi;
  let namespace: string;

  before(async function () {
    kc = kubeConfig();
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await installCRD(kc);
    namespace = await createNamespace(kc, "crd");
  });

  const create = (name: string, spec: Record<string, unknown>) =>
    custom.createNamespacedCustomObject({
      group, version, namespace, plural,
      body: { apiVersion: `${group}/${version}`, kind: "AIAssistant", metadata: { name }, spec },
    }) as Promise<AIAssistant>;

  it("applies the schema's defaults", async function () {
    const created = await create("defaults", {});
    assert.equal(created.spec.replicas, 1);
    assert.equal(created.spec.model.provider, "extractive");
    assert.deepEqual(
      [created.spec.storage.mode, created.spec.storage.size, created.spec.storage.deletePolicy, created.spec.storage.accessModes],
      ["embedded", "1Gi", "Retain", ["ReadWriteOnce"]],
    );
    assert.deepEqual([created.spec.rollout.strategy, created.spec.rollout.autoPromotion, created.spec.rollout.scaleDownDelaySeconds], ["BlueGreen", true, 30]);
    assert.equal(created.spec.auth.mode, "none");
    assert.equal(created.spec.service.port, 80);
  });

  const postgres = { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } };
  const rejected: [string, Record<string, unknown>, RegExp][] = [
    ["embedded storage with 3 replicas", { replicas: 3 }, /embedded storage \(SQLite on one volume\) serves one replica/],
    ["embedded storage with a 2-pod preview", { rollout: { previewReplicaCount: 2 } }, /rollout.previewReplicaCount above 1 needs storage.mode postgres/],
    ["embedded storage with autoscaling", { autoscaling: { maxReplicas: 3 } }, /autoscaling needs storage.mode postgres/],
    ["autoscaling max below min", { storage: postgres, autoscaling: { minReplicas: 5, maxReplicas: 2 } }, /maxReplicas must be >= autoscaling.minReplicas/],
    ["the openai provider without a URL", { model: { provider: "openai", name: "qwen" } }, /model.provider openai needs model.baseURL and model.name/],
    ["postgres storage without a Secret", { storage: { mode: "postgres" } }, /storage.mode postgres needs storage.postgres.urlSecretRef/],
    ["a knowledge source with two origins", { knowledge: { sources: [{ name: "kb", configMap: { name: "a" }, url: "https://x.example/a" }] } }, /exactly one of configMap, secret or url/],
    ["apiKey auth without keys", { auth: { mode: "apiKey" } }, /auth.mode apiKey needs auth.apiKeysSecretRef/],
    ["an unauthenticated Ingress", { ingress: { enabled: true, host: "chat.example.com" } }, /Ingress-exposed assistant needs auth/],
    ["an Ingress without a host", { auth: { mode: "oidc", oidc: { issuer: "https://id.example", audience: "chat" } }, ingress: { enabled: true } }, /ingress.enabled needs ingress.host/],
    ["an Ingress over plain HTTP", { auth: { mode: "oidc", oidc: { issuer: "https://id.example", audience: "chat" } }, ingress: { enabled: true, host: "chat.example.com" } }, /ingress.enabled needs ingress.tls/],
    ["a skill named confirm", { skills: [{ name: "confirm", description: "x", endpoint: { url: "http://erp.apps.svc/x" } }] }, /skill name confirm is reserved/],
    ["backup of postgres storage", { storage: postgres, backup: { enabled: true, s3: { bucket: "bkp", credentialsSecretRef: { name: "s3" } } } }, /backup backs up embedded storage/],
    ["backup without a destination", { backup: { enabled: true } }, /backup.enabled needs backup.s3/],
    ["backup of a ReadWriteOncePod volume", { storage: { accessModes: ["ReadWriteOncePod"] }, backup: { enabled: true, s3: { bucket: "bkp", credentialsSecretRef: { name: "s3" } } } }, /ReadWriteOncePod forbids/],
    ["a knowledge source name too long for its volume", { knowledge: { sources: [{ name: "k".repeat(54), configMap: { name: "a" } }] } }, /Too long|longer than 53/],
    ["a chunk overlap as long as the default chunk", { knowledge: { chunkOverlapChars: 800 } }, /chunkOverlapChars must be less than knowledge.chunkChars/],
    ["an unknown provider", { model: { provider: "gpt" } }, /Unsupported value: "gpt"/],
    ["negative replicas", { replicas: -1 }, /should be greater than or equal to 0/],
  ];
  for (const [what, spec, message] of rejected) {
    it(`rejects ${what}`, async function () {
      const error = await create("bad", spec).then(() => assert.fail("the API server accepted it"), apiError);
      assert.equal(error.code, 422);
      assert.match(error.message, message);
    });
  }

  for (const [what, name, message] of [
    ["a name with a dot", "chat.v2", /must start with a letter/],
    ["a name starting with a digit", "2chat", /must start with a letter/],
    ["a name too long for the preview Service", "a".repeat(56), /at most 55 characters/],
  ] as const) {
    it(`rejects ${what}`, async function () {
      const error = await create(name, {}).then(() => assert.fail("the API server accepted it"), apiError);
      assert.equal(error.code, 422);
      assert.match(error.message, message);
    });
  }

  it("rejects a name too long for the backup CronJob only when backups are on", async function () {
    const name = "b".repeat(46);
    const backup = { enabled: true, s3: { bucket: "bkp", credentialsSecretRef: { name: "s3" } } };
    const error = await create(name, { backup }).then(() => assert.fail("the API server accepted it"), apiError);
    assert.match(error.message, /at most 45 characters: it names the CronJob/);
    await create(name, {});
  });

  it("rejects duplicate environment variable names (list-map keys)", async function () {
    const error = await create("bad", { env: [{ name: "LOG_LEVEL", value: "debug" }, { name: "LOG_LEVEL", value: "info" }] }).then(() => assert.fail("accepted"), apiError);
    assert.equal(error.code, 422);
    assert.match(error.message, /Duplicate value/);
  });

  it("rejects duplicate skill names (list-map keys)", async function () {
    const skill = { name: "erp", description: "Order lookup", endpoint: { url: "http://erp.example:8080/orders" } };
    const error = await create("bad", { skills: [skill, skill] }).then(() => assert.fail("accepted"), apiError);
    assert.equal(error.code, 422);
    assert.match(error.message, /Duplicate value/);
  });

  it("serves the /scale subresource", async function () {
    await create("scalable", { storage: postgres });
    const scale = (await custom.getNamespacedCustomObjectScale({ group, version, namespace, plural, name: "scalable" })) as { spec?: { replicas?: number } };
    assert.equal(scale.spec?.replicas, 1);
    await custom.patchNamespacedCustomObjectScale(
      { group, version, namespace, plural, name: "scalable", body: { spec: { replicas: 4 } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const scaled = (await custom.getNamespacedCustomObject({ group, version, namespace, plural, name: "scalable" })) as AIAssistant;
    assert.equal(scaled.spec.replicas, 4);
  });
});
