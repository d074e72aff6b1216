import assert from "node:assert/strict";
import type { KubernetesObject, V1Deployment, V1EndpointSlice } from "@kubernetes/client-node";
import { cacheTransform } from "../../src/controller/cache-transforms.js";
import { firstDifference } from "../../src/reconcile/semantic.js";
import { desiredState, steadyLayout } from "../../src/resources/desired.js";
import { deploymentProgress, readyEndpointPods } from "../../src/rollout/observe.js";
import { defaultedAIAssistant } from "../support/aiassistant.js";

const copy = <T>(value: T): T => structuredClone(value);

describe("what the operator's caches keep", function () {
  it("drops managedFields and kubectl's last-applied copy, and nothing else of the metadata", function () {
    const object: KubernetesObject = {
      metadata: {
        name: "demo",
        annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{…the whole object…}", "aiassistant.dev/promote": "true" },
        managedFields: [{ manager: "kubectl", operation: "Apply" }],
      },
    };
    assert.deepEqual(cacheTransform("AIAssistant")(object).metadata, { name: "demo", annotations: { "aiassistant.dev/promote": "true" } });
  });

  it("keeps everything the reconciler compares with what it applies: a cached object is never drift", function () {
    const aia = defaultedAIAssistant({ storage: { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } }, replicas: 2, autoscaling: { minReplicas: 2, maxReplicas: 4 }, networkPolicy: { enabled: true } });
    const desired = desiredState(aia, { ...steadyLayout(aia, "blue"), preview: true });
    for (const object of [...desired.waves.flat(), ...desired.extras]) {
      // As the API server returns it: the applied fields, plus its own.
      const served: KubernetesObject & { status?: unknown } = copy(object);
      Object.assign((served.metadata ??= {}), { uid: "u", resourceVersion: "1", managedFields: [{ manager: "aiassistant-operator" }] });
      served.status = { conditions: [{ type: "Progressing", status: "True", reason: "NewReplicaSetAvailable", message: "m", lastUpdateTime: "t" }] };
      const cached = cacheTransform(object.kind ?? "")(served);
      assert.equal(firstDifference({ ...object, apiVersion: undefined, kind: undefined }, cached), undefined, `${object.kind ?? ""} ${object.metadata?.name ?? ""}`);
    }
  });

  it("keeps of a Deployment's status what the rollout reads", function () {
    const deployment: V1Deployment = {
      metadata: { name: "demo-green", generation: 2 },
      status: {
        observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1,
        conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: "ReplicaSet has timed out progressing.", lastUpdateTime: new Date("2026-12-01T00:00:00Z"), lastTransitionTime: new Date("2026-12-01T00:00:00Z") }],
      },
    };
    const cached = cacheTransform<V1Deployment>("Deployment")(copy(deployment));
    assert.deepEqual(deploymentProgress(cached, 2), deploymentProgress(deployment, 2));
    assert.deepEqual(cached.status?.conditions, [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }]);
  });

  it("keeps of an EndpointSlice its owner and which pods it lists ready", function () {
    const slice: V1EndpointSlice = {
      addressType: "IPv4",
      metadata: { name: "demo-preview-x1", namespace: "team-a", labels: { "kubernetes.io/service-name": "demo-preview" }, ownerReferences: [{ apiVersion: "v1", kind: "Service", name: "demo-preview", uid: "s" }], resourceVersion: "7" },
      endpoints: [
        { addresses: ["10.244.0.5"], conditions: { ready: true, serving: true, terminating: false }, nodeName: "n", targetRef: { kind: "Pod", name: "demo-green-a", namespace: "team-a", uid: "p" } },
        { addresses: ["10.244.0.6"], conditions: { ready: false }, targetRef: { kind: "Pod", name: "demo-green-b" } },
        { addresses: ["10.244.0.7"], targetRef: { kind: "Pod", name: "demo-green-c" } },
      ],
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    };
    const cached = cacheTransform<V1EndpointSlice>("EndpointSlice")(copy(slice));
    assert.deepEqual(readyEndpointPods([cached]), readyEndpointPods([slice]));
    assert.deepEqual([...readyEndpointPods([cached])].sort(), ["demo-green-a", "demo-green-c"]);
    assert.deepEqual(cached.metadata, slice.metadata);
    assert.equal(cached.ports, undefined);
    assert.deepEqual(cached.endpoints[0], { addresses: [], conditions: { ready: true }, targetRef: { kind: "Pod", name: "demo-green-a" } });
  });
});
