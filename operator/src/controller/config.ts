import { hostname } from "node:os";

/** The operator's settings, from its environment (the Deployment in charts/ and config/ sets them). */
export interface OperatorConfig {
  /** Empty: every namespace. */
  watchNamespaces: string[];
  workers: number;
  resyncMs: number;
  staleAfterMs: number;
  http: { host: string; port: number };
  leaderElection: { enabled: boolean; namespace: string; name: string; identity: string };
  /** How long an answer to "are the Prometheus Operator's CRDs installed?" is kept. */
  monitoringDiscoveryMs: number;
  logLevel: string;
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new ConfigError(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const leaderElection = (env["LEADER_ELECT"] ?? "true").toLowerCase();
  if (!["true", "false"].includes(leaderElection)) throw new ConfigError(`LEADER_ELECT must be true or false, got "${leaderElection}"`);
  return {
    watchNamespaces: (env["WATCH_NAMESPACES"] ?? "")
      .split(",")
      .map((n) => n.trim())
      .filter(Boolean),
    workers: integer(env, "WORKERS", 16, 1),
    resyncMs: integer(env, "RESYNC_SECONDS", 600, 10) * 1000,
    staleAfterMs: integer(env, "WATCH_STALE_SECONDS", 300, 30) * 1000,
    http: { host: env["HTTP_HOST"] ?? "0.0.0.0", port: integer(env, "HTTP_PORT", 8080, 0) },
    leaderElection: {
      enabled: leaderElection === "true",
      namespace: env["LEADER_ELECTION_NAMESPACE"] ?? env["POD_NAMESPACE"] ?? "default",
      name: env["LEADER_ELECTION_ID"] ?? "aiassistant-operator-leader",
      identity: env["POD_NAME"] ?? `${hostname()}-${process.pid}`,
    },
    monitoringDiscoveryMs: integer(env, "MONITORING_DISCOVERY_SECONDS", 60, 1) * 1000,
    logLevel: env["LOG_LEVEL"] ?? "info",
  };
}
