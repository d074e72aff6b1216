import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import { Registry } from "prom-client";
import { LeaderElector } from "../../../src/runtime/leader-election.js";
import { createNamespace, eventually, kubeConfig } from "../../support/kube.js";
import { StallingProxy, apiServerAddress } from "./stalling-proxy.js";

/** One candidate and what its callbacks saw, with times. */
class Candidate {
  readonly elector: LeaderElector;
  readonly registry = new Registry();
  startedAt: number | undefined;
  stoppedAt: number | undefined;
  signal: AbortSignal | undefined;
  readonly leaders: string[] = [];
  readonly running: Promise<void>;

  constructor(
    readonly identity: string,
    kc: k8s.KubeConfig,
    namespace: string,
  ) {
    this.elector = new LeaderElector({
      kc,
      namespace,
      name: "runtime-test",
      identity,
      leaseDurationMs: 2000,
      renewDeadlineMs: 1500,
      retryPeriodMs: 200,
      logger: pino({ level: "silent" }),
      registry: this.registry,
    });
    this.running = this.elector.run({
      onStartedLeading: (signal) => {
        this.startedAt = Date.now();
        this.signal = signal;
      },
      onStoppedLeading: () => {
        this.stoppedAt = Date.now();
      },
      onNewLeader: (leader) => this.leaders.push(leader),
    });
  }

  async masterStatus(): Promise<number | undefined> {
    const metric = await this.registry.getSingleMetric("leader_election_master_status")?.get();
    return metric?.values.find((value) => value.labels["name"] === "runtime-test")?.value;
  }
}

describe("LeaderElector against a real API server", function () {
  this.timeout(60_000);
  let kc: k8s.KubeConfig;
  let leases: k8s.CoordinationV1Api;
  let namespace: string;
  const candidates: Candidate[] = [];
  const proxies: StallingProxy[] = [];

  before(function () {
    kc = kubeConfig();
    leases = kc.makeApiClient(k8s.CoordinationV1Api);
  });

  beforeEach(async function () {
    namespace = await createNamespace(kc, "leader");
  });

  afterEach(async function () {
    for (const proxy of proxies.splice(0)) await proxy.close();
    await Promise.all(candidates.splice(0).map((candidate) => candidate.elector.stop()));
  });

  const holder = async () => (await leases.readNamespacedLease({ name: "runtime-test", namespace })).spec?.holderIdentity;

  async function electOneOf(a: Candidate, b: Candidate): Promise<[leader: Candidate, follower: Candidate]> {
    const leader = await eventually("a leader", () => [a, b].find((c) => c.elector.isLeader()));
    const follower = leader === a ? b : a;
    assert.equal(await holder(), leader.identity);
    // Several retry periods and a renewal later, still one leader.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(leader.elector.isLeader(), true);
    assert.equal(follower.elector.isLeader(), false);
    assert.equal(follower.startedAt, undefined, "the follower never started leading");
    assert.equal(await leader.masterStatus(), 1);
    assert.equal(await follower.masterStatus(), 0);
    assert.deepEqual(follower.leaders, [leader.identity]);
    return [leader, follower];
  }

  it("elects exactly one of two candidates; a graceful stop hands over at once", async function () {
    const a = new Candidate("a", kc, namespace);
    const b = new Candidate("b", kc, namespace);
    candidates.push(a, b);
    const [leader, follower] = await electOneOf(a, b);

    await leader.elector.stop();
    assert.ok(leader.stoppedAt !== undefined && leader.signal?.aborted, "the old leader was told and its signal aborted");
    // Released, so the follower need not wait out the 2 s lease: it is free, or already the follower's.
    assert.ok(["", follower.identity].includes((await holder()) ?? ""), "the lease still names the stopped leader");
    await eventually("the follower to lead", () => (follower.elector.isLeader() ? true : undefined), { intervalMs: 20 });
    assert.equal(await holder(), follower.identity);
    const lease = await leases.readNamespacedLease({ name: "runtime-test", namespace });
    assert.equal(lease.spec?.leaseTransitions, 1);
  });

  it("takes over from a leader that cannot renew only after the lease expires; the old leader stops first", async function () {
    const network = new StallingProxy(apiServerAddress(kc));
    await network.listen();
    proxies.push(network);
    const a = new Candidate("a", network.kubeConfigVia(kc), namespace);
    await eventually("a to lead", () => (a.elector.isLeader() ? true : undefined));
    const b = new Candidate("b", kc, namespace);
    candidates.push(a, b);
    await electOneOf(a, b);

    const cutOffAt = Date.now();
    network.stall();
    await eventually("b to lead", () => (b.elector.isLeader() ? true : undefined), { intervalMs: 20 });
    const takeoverMs = Date.now() - cutOffAt;
    assert.ok(a.stoppedAt !== undefined && b.startedAt !== undefined);
    assert.ok(a.stoppedAt < b.startedAt, "the old leader gave up (renew deadline) before the new one started");
    assert.equal(a.elector.isLeader(), false);
    assert.equal(a.signal?.aborted, true);
    assert.ok(takeoverMs >= 1500, `b waited for the lease to expire (took ${takeoverMs} ms)`);
    await a.running;
  });
});
