import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { installCRD } from "../support/crd.js";
import { createNamespace, eventually, kubeConfig } from "../support/kube.js";
import { OperatorProcess } from "../support/operator-process.js";

describe("two operator replicas", function () {
  this.timeout(90_000);
  let kc: k8s.KubeConfig;
  let namespace: string;
  const operators: OperatorProcess[] = [];

  before(async function () {
    kc = kubeConfig();
    await installCRD(kc);
    namespace = await createNamespace(kc, "leader");
  });

  after(async function () {
    await Promise.all(operators.map((o) => o.stop()));
  });

  const leaseName = "aiassistant-operator-leader-test";
  const holder = async () => {
    const lease = await kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: leaseName, namespace: "default" });
    return lease.spec?.holderIdentity ?? undefined;
  };
  const reconciling = (o: OperatorProcess) => o.output.includes("starting the controller");

  it("elect one leader, and the other takes over when the leader dies", async function () {
    const env = { WATCH_NAMESPACES: namespace, LEADER_ELECT: "true", LEADER_ELECTION_ID: leaseName };
    operators.push(await new OperatorProcess(env).start(), await new OperatorProcess(env).start());
    const leaderIdentity = await eventually("a leader", holder);
    const [leader, follower] = operators[0]?.identity === leaderIdentity ? [operators[0], operators[1]] : [operators[1], operators[0]];
    assert.ok(leader && follower);
    await eventually("the leader to start its controller", () => (reconciling(leader) ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(reconciling(follower), false, "the follower must not reconcile");

    const killedAt = Date.now();
    await leader.kill();
    await eventually("the follower to take the Lease", async () => ((await holder()) === follower.identity ? true : undefined), { timeoutMs: 30_000 });
    await eventually("the follower to start its controller", () => (reconciling(follower) ? true : undefined));
    console.log(`      takeover ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the leader was killed (lease: 15 s)`);
    // A rolling update or a drain stops the leader with SIGTERM: it gives the Lease up and exits 0.
    assert.equal(await follower.stop(), 0);
    assert.doesNotMatch(follower.output, /lost leadership/);
    assert.ok(!(await holder()), "the Lease is released on a graceful stop");
  });
});
