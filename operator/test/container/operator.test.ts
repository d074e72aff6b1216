import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { parse, parseAllDocuments } from "yaml";
import { converged, waitForAIAssistant } from "../support/aiassistant.js";
import { HostVolumes, imageRef, PodContainer } from "../support/container.js";
import { kubectl } from "../support/crd.js";
import { createNamespace, kubeConfig } from "../support/kube.js";
import { freePort } from "../support/net.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

describe("the operator image, run as config/default's Deployment runs it", function () {
  this.timeout(120_000);
  let kc: k8s.KubeConfig;
  let hostVolumes: HostVolumes;
  let operator: PodContainer | undefined;
  let port: number;
  const podName = "aiassistant-operator-7d9f8-x2k4p";
  let namespace: string;

  before(async function () {
    kc = kubeConfig();
    hostVolumes = await HostVolumes.create();
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed" && operator) console.log((await operator.logs().catch(String)).split("\n").slice(-30).join("\n"));
  });

  after(async function () {
    await operator?.remove();
    await hostVolumes.remove();
  });

  it("starts with the in-cluster credentials of its ServiceAccount, wins the election and reconciles the sample", async function () {
    const manifests = await kubectl("kustomize", `${root}config/default`);
    await kubectl("apply", "--server-side", "-k", `${root}config/default`);
    const deployment = parseAllDocuments(manifests)
      .map((document) => document.toJS() as k8s.V1Deployment)
      .find((object) => object.kind === "Deployment");
    const pod = structuredClone(deployment?.spec?.template.spec);
    const operatorNamespace = deployment?.metadata?.namespace ?? "";
    assert.ok(pod && operatorNamespace);
    const [container] = pod.containers;
    assert.equal(container?.image, await imageRef("operator"), "config/manager deploys the image hack/images.sh builds");

    // What the ServiceAccount admission plugin and the kubelet give every pod: a token, the cluster's
    // CA and the namespace under /var/run/secrets/kubernetes.io/serviceaccount, and the API's address.
    const admin = parse(await readFile(process.env["KUBECONFIG"] ?? "", "utf8")) as { clusters: { cluster: { server: string; "certificate-authority": string } }[] };
    const cluster = admin.clusters[0]?.cluster;
    assert.ok(cluster);
    const token = (await kubectl("create", "token", pod.serviceAccountName ?? "", "-n", operatorNamespace, "--duration=1h")).trim();
    pod.volumes = [...(pod.volumes ?? []), { name: "kube-api-access" }];
    container.volumeMounts = [...(container.volumeMounts ?? []), { name: "kube-api-access", mountPath: serviceAccountDir, readOnly: true }];
    const api = new URL(cluster.server);
    port = await freePort();
    operator = await PodContainer.start(
      {
        name: "aia-operator",
        pod,
        metadata: { name: podName, namespace: operatorNamespace },
        volumes: {
          "kube-api-access": await hostVolumes.files("kube-api-access", {
            token,
            "ca.crt": await readFile(cluster["certificate-authority"], "utf8"),
            namespace: operatorNamespace,
          }),
        },
        env: { KUBERNETES_SERVICE_HOST: api.hostname, KUBERNETES_SERVICE_PORT: api.port, HTTP_HOST: "127.0.0.1", HTTP_PORT: String(port) },
      },
      await imageRef("operator"),
    );
    const baseUrl = `http://127.0.0.1:${port}`;
    const healthyMs = await operator.waitForProbe(container.startupProbe, baseUrl);
    console.log(`      operator: healthy ${healthyMs} ms after podman run`);
    await operator.waitForProbe(container.readinessProbe, baseUrl);

    const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    const lease = await coordination.readNamespacedLease({ name: "aiassistant-operator-leader", namespace: operatorNamespace });
    assert.equal(lease.spec?.holderIdentity, podName);

    namespace = await createNamespace(kc, "image");
    await kubectl("apply", "-n", namespace, "-f", `${root}config/samples/aiassistant.yaml`);
    await waitForAIAssistant(kc, namespace, "demo", converged, { what: "demo to be reconciled by the operator image" });
    const blue = await kc.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: "demo-blue", namespace });
    assert.equal(blue.spec?.template.spec?.containers[0]?.image, await imageRef("assistant"));
    assert.doesNotMatch(await operator.logs(), /forbidden/i);
  });

  it("stops on SIGTERM with exit code 0 and hands the Lease back", async function () {
    assert.ok(operator);
    const { exitCode } = await operator.stop();
    assert.equal(exitCode, 0);
    const lease = await kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: "aiassistant-operator-leader", namespace: "aiassistant-system" });
    assert.ok(!lease.spec?.holderIdentity, `holder after stop: ${lease.spec?.holderIdentity ?? ""}`);
  });
});
