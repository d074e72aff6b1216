import { readFileSync } from "node:fs";
import * as net from "node:net";
import * as k8s from "@kubernetes/client-node";

/**
 * A TCP relay in front of the API server that the test can stall (bytes stop flowing both ways,
 * connections stay open: a half-open network path, the failure that leaves watches hanging) or
 * cut (every connection reset). TLS passes through untouched.
 */
export class StallingProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private stalled = false;
  private readonly onResume = new Set<() => void>();

  constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
        socket.on("close", () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      this.relay(client, upstream);
      this.relay(upstream, client);
    });
  }

  /** Starts listening on a free loopback port. */
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }

  /** `kc` with its current cluster's server pointed at this proxy. */
  kubeConfigVia(kc: k8s.KubeConfig): k8s.KubeConfig {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig without a current cluster");
    const server = new URL(cluster.server);
    server.port = String((this.server.address() as net.AddressInfo).port);
    const proxied = new k8s.KubeConfig();
    proxied.loadFromOptions({
      clusters: kc.clusters.map((c) => (c.name === cluster.name ? { ...c, server: server.toString().replace(/\/$/, "") } : c)),
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
    return proxied;
  }

  stall(): void {
    this.stalled = true;
  }

  resume(): void {
    this.stalled = false;
    for (const flush of [...this.onResume]) flush();
    this.onResume.clear();
  }

  /** Resets every open connection, as a restarted load balancer would. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.resume();
    this.cut();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }

  /** Copies `from` to `to`; while stalled, holds the bytes back in order. */
  private relay(from: net.Socket, to: net.Socket): void {
    const held: Buffer[] = [];
    const flush = () => {
      for (const chunk of held.splice(0)) to.write(chunk);
    };
    from.on("data", (chunk: Buffer) => {
      if (!this.stalled && held.length === 0) {
        to.write(chunk);
        return;
      }
      held.push(chunk);
      this.onResume.add(flush);
    });
  }
}

/** The address of the API server `kc` points at. */
export function apiServerAddress(kc: k8s.KubeConfig): { host: string; port: number } {
  const server = new URL(kc.getCurrentCluster()?.server ?? "");
  return { host: server.hostname, port: Number(server.port) };
}

/**
 * Compacts the test control plane's etcd to its current revision, so a watch from any older
 * resourceVersion that the API server does not serve from its watch cache gets 410 Gone.
 */
export async function compactEtcd(): Promise<void> {
  const dir = process.env["AIA_CONTROL_PLANE_DIR"];
  if (dir === undefined) throw new Error("AIA_CONTROL_PLANE_DIR is not set: the api tier's root hook starts the control plane");
  const pid = /^kube-apiserver (\d+)$/m.exec(readFileSync(`${dir}/pids`, "utf8"))?.[1];
  if (pid === undefined) throw new Error(`no kube-apiserver in ${dir}/pids`);
  const etcd = /--etcd-servers=([^\0,]+)/.exec(readFileSync(`/proc/${pid}/cmdline`, "utf8"))?.[1];
  if (etcd === undefined) throw new Error("kube-apiserver has no --etcd-servers flag");
  const range = await fetch(`${etcd}/v3/kv/range`, { method: "POST", body: JSON.stringify({ key: "AA==" }) });
  const { header } = (await range.json()) as { header: { revision: string } };
  const compaction = await fetch(`${etcd}/v3/kv/compaction`, { method: "POST", body: JSON.stringify({ revision: header.revision, physical: true }) });
  if (!compaction.ok) throw new Error(`etcd compaction failed: ${compaction.status} ${await compaction.text()}`);
}
