import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { apiError, createNamespace, eventually, kubeConfig, uniqueName } from "../support/kube.js";

describe("the api tier's control plane", function () {
  this.timeout(60_000);
  let kc: k8s.KubeConfig;
  before(function () {
    kc = kubeConfig();
  });

  it("serves a real kube-apiserver", async function () {
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    assert.equal(version.major, "1");
    assert.ok(Number(version.minor) >= 34, `minor ${version.minor}`);
  });

  it("creates a namespace", async function () {
    const name = await createNamespace(kc, "proof");
    const namespace = await kc.makeApiClient(k8s.CoreV1Api).readNamespace({ name });
    assert.equal(namespace.status?.phase, "Active");
  });

  it("enforces a CRD's CEL validation rule", async function () {
    const group = `${uniqueName("proof")}.example.com`;
    const extensions = kc.makeApiClient(k8s.ApiextensionsV1Api);
    await extensions.createCustomResourceDefinition({
      body: {
        metadata: { name: `widgets.${group}` },
        spec: {
          group,
          scope: "Namespaced",
          names: { plural: "widgets", singular: "widget", kind: "Widget" },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: "object",
                  properties: {
                    spec: {
                      type: "object",
                      properties: { min: { type: "integer" }, max: { type: "integer" } },
                      x_kubernetes_validations: [{ rule: "self.max >= self.min", message: "max must be >= min" }],
                    },
                  },
                },
              },
            },
          ],
        },
      },
    });
    await eventually("the CRD to be established", async () => {
      const crd = await extensions.readCustomResourceDefinition({ name: `widgets.${group}` });
      return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ? true : undefined;
    });

    const namespace = await createNamespace(kc, "proof");
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const widget = (name: string, min: number, max: number) => ({
      group, version: "v1", namespace, plural: "widgets",
      body: { apiVersion: `${group}/v1`, kind: "Widget", metadata: { name }, spec: { min, max } },
    });
    await custom.createNamespacedCustomObject(widget("good", 1, 2));
    const rejected = await custom.createNamespacedCustomObject(widget("bad", 3, 2)).then(
      () => assert.fail("the API server accepted max < min"),
      apiError,
    );
    assert.equal(rejected.code, 422);
    assert.match(rejected.message, /max must be >= min/);
  });

  it("delivers watch events", async function () {
    const namespace = await createNamespace(kc, "proof");
    const seen: string[] = [];
    const request = await new k8s.Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/configmaps`,
      {},
      (type: string, object: k8s.V1ConfigMap) => seen.push(`${type} ${object.metadata?.name ?? ""}`),
      () => undefined,
    );
    try {
      await kc.makeApiClient(k8s.CoreV1Api).createNamespacedConfigMap({
        namespace, body: { metadata: { name: "watched" }, data: { k: "v" } },
      });
      await eventually("the ADDED event", () => (seen.includes("ADDED watched") ? true : undefined));
    } finally {
      request.abort();
    }
  });
});
