import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { jitter, sleep } from "./clock.js";
import { gaugeOn } from "./metrics.js";

/** The part of a Lease that leader election reads and writes. Times are epoch milliseconds. */
export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: number;
  renewTime: number;
  leaseTransitions: number;
}

/** client-node types MicroTime fields as Date but hands them over as the server's RFC 3339 string. */
function epochMs(time: Date | string | undefined): number {
  return time === undefined ? 0 : new Date(time).getTime();
}

export function recordOf(lease: k8s.V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? "",
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: epochMs(spec.acquireTime),
    renewTime: epochMs(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

export function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/**
 * Whether another candidate still holds the lease. Like client-go, expiry is measured from when
 * *we* saw the record last change (`observedAt`, our clock), never from the renewTime written by
 * the holder's clock: clocks of different nodes may disagree, elapsed time on one clock does not.
 */
export function heldByAnother(record: LeaseRecord, observedAt: number, now: number, identity: string): boolean {
  return record.holderIdentity !== "" && record.holderIdentity !== identity && observedAt + record.leaseDurationSeconds * 1000 > now;
}

/** The record to write when `identity` acquires or renews at `now`. */
export function claimRecord(current: LeaseRecord | undefined, identity: string, now: number, leaseDurationMs: number): LeaseRecord {
  const renewing = current?.holderIdentity === identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: Math.max(1, Math.ceil(leaseDurationMs / 1000)),
    acquireTime: renewing ? current.acquireTime : now,
    renewTime: now,
    leaseTransitions: current === undefined ? 0 : renewing ? current.leaseTransitions : current.leaseTransitions + 1,
  };
}

/** client-go's ReleaseOnCancel: empty holder and a 1 s lease, so a waiting candidate takes over at its next retry. */
export function releaseRecord(current: LeaseRecord, now: number): LeaseRecord {
  return { ...current, holderIdentity: "", leaseDurationSeconds: 1, acquireTime: now, renewTime: now };
}

function specOf(record: LeaseRecord): k8s.V1LeaseSpec {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: new k8s.V1MicroTime(record.acquireTime),
    renewTime: new k8s.V1MicroTime(record.renewTime),
    leaseTransitions: record.leaseTransitions,
  };
}

export interface LeaderElectorOptions {
  kc: k8s.KubeConfig;
  namespace: string;
  name: string;
  /** Unique per candidate, e.g. the pod name. */
  identity: string;
  /** How long others wait after the last renewal they saw before taking over. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failed renewal before it gives up leading. Default 10 s. */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  logger: Logger;
  registry: Registry;
}

export interface LeaderCallbacks {
  /** We lead; `signal` aborts the moment we stop leading. */
  onStartedLeading(signal: AbortSignal): void;
  /** We led and no longer do (renewal failed, or stop()). */
  onStoppedLeading(): void;
  /** The lease holder we observe changed (our own identity included). */
  onNewLeader?(identity: string): void;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics: acquire a free or
 * expired lease, renew every retry period, give up leading when renewals fail for the renew
 * deadline, release on a graceful stop. Writes carry the resourceVersion read, so of two
 * candidates racing for a lease exactly one update succeeds (the other gets 409 and retries).
 */
export class LeaderElector {
  private readonly api: k8s.CoordinationV1Api;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly status;
  private observed: { lease: k8s.V1Lease; record: LeaseRecord; at: number } | undefined;
  private reportedLeader: string | undefined;
  private leading = false;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;

  constructor(private readonly options: LeaderElectorOptions) {
    this.api = options.kc.makeApiClient(k8s.CoordinationV1Api);
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    // client-go's checks: without them a renewal could outlive the lease others wait for.
    if (this.leaseDurationMs <= this.renewDeadlineMs) throw new Error("leaseDurationMs must be greater than renewDeadlineMs");
    if (this.renewDeadlineMs <= this.retryPeriodMs * 1.2) throw new Error("renewDeadlineMs must be greater than retryPeriodMs * 1.2");
    this.status = gaugeOn(options.registry, {
      name: "leader_election_master_status",
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.",
      labelNames: ["name"],
    });
    this.status.set({ name: options.name }, 0);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns until we lead, leads until renewal fails or stop() is called, then returns. */
  run(callbacks: LeaderCallbacks): Promise<void> {
    this.running ??= this.campaign(callbacks);
    return this.running;
  }

  /** Stops campaigning; a leader stops leading and releases the lease. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async campaign(callbacks: LeaderCallbacks): Promise<void> {
    const { logger, namespace, name, identity } = this.options;
    const stop = this.stopping.signal;
    // A method, not the signal's property: TypeScript would keep `aborted` narrowed across awaits.
    const stopped = () => stop.aborted;
    logger.info({ lease: `${namespace}/${name}`, identity }, "attempting to acquire leader lease");
    while (!stopped() && !(await this.attempt(callbacks, this.leaseDurationMs))) {
      await sleep(jitter(this.retryPeriodMs, 1.2), stop);
    }
    if (stopped()) return;

    this.leading = true;
    this.status.set({ name }, 1);
    logger.info({ lease: `${namespace}/${name}`, identity }, "acquired leader lease");
    const leadership = new AbortController();
    callbacks.onStartedLeading(leadership.signal);

    while (!stopped() && (await this.renew(callbacks))) await sleep(this.retryPeriodMs, stop);

    this.leading = false;
    this.status.set({ name }, 0);
    leadership.abort();
    if (stopped()) await this.release();
    else logger.error({ lease: `${namespace}/${name}`, identity, renewDeadlineMs: this.renewDeadlineMs }, "failed to renew leader lease; stopping leading");
    callbacks.onStoppedLeading();
  }

  /** Retries renewal every retry period until it succeeds or the renew deadline passes. */
  private async renew(callbacks: LeaderCallbacks): Promise<boolean> {
    const deadline = Date.now() + this.renewDeadlineMs;
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      if (await this.attempt(callbacks, remaining)) return true;
      await sleep(Math.min(this.retryPeriodMs, Math.max(0, deadline - Date.now())), stop);
    }
    // Stopping while renewing: leave the loop; the lease is released, not lost.
    return true;
  }

  /** One tryAcquireOrRenew that gives up after `timeoutMs` (an API call may hang past the deadline). */
  private async attempt(callbacks: LeaderCallbacks, timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        resolve(false);
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.tryAcquireOrRenew(callbacks), timeout]);
    } catch (error) {
      this.options.logger.warn({ err: error, lease: `${this.options.namespace}/${this.options.name}` }, "leader lease request failed");
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private async tryAcquireOrRenew(callbacks: LeaderCallbacks): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    let lease: k8s.V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (!(error instanceof k8s.ApiException) || error.code !== 404) throw error;
      const record = claimRecord(undefined, identity, Date.now(), this.leaseDurationMs);
      try {
        const created = await this.api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: specOf(record) } });
        this.observe(created, callbacks);
        return true;
      } catch (createError) {
        if (createError instanceof k8s.ApiException && createError.code === 409) return false;
        throw createError;
      }
    }

    this.observe(lease, callbacks);
    const observed = this.observed;
    if (!observed) return false;
    const now = Date.now();
    if (heldByAnother(observed.record, observed.at, now, identity)) return false;

    const record = claimRecord(observed.record, identity, now, this.leaseDurationMs);
    try {
      const updated = await this.api.replaceNamespacedLease({ name, namespace, body: { metadata: lease.metadata, spec: specOf(record) } });
      this.observe(updated, callbacks);
      return true;
    } catch (error) {
      // Someone wrote the lease since we read it: look again next period.
      if (error instanceof k8s.ApiException && error.code === 409) return false;
      throw error;
    }
  }

  /** Notes when the record last changed, by our clock. */
  private observe(lease: k8s.V1Lease, callbacks: LeaderCallbacks): void {
    const record = recordOf(lease);
    if (!this.observed || !sameRecord(this.observed.record, record)) {
      this.observed = { lease, record, at: Date.now() };
    } else {
      this.observed.lease = lease;
    }
    if (record.holderIdentity !== "" && record.holderIdentity !== this.reportedLeader) {
      this.reportedLeader = record.holderIdentity;
      this.options.logger.info({ lease: `${this.options.namespace}/${this.options.name}`, leader: record.holderIdentity }, "new leader observed");
      callbacks.onNewLeader?.(record.holderIdentity);
    }
  }

  private async release(): Promise<void> {
    const { namespace, name, identity, logger } = this.options;
    const observed = this.observed;
    if (observed?.record.holderIdentity !== identity) return;
    const record = releaseRecord(observed.record, Date.now());
    try {
      await this.api.replaceNamespacedLease({ name, namespace, body: { metadata: observed.lease.metadata, spec: specOf(record) } });
      logger.info({ lease: `${namespace}/${name}`, identity }, "released leader lease");
    } catch (error) {
      // The lease then expires on its own after its duration.
      logger.warn({ err: error, lease: `${namespace}/${name}` }, "failed to release leader lease");
    }
  }
}
