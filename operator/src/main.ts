import { pino } from "pino";
import { ConfigError, configFromEnv } from "./controller/config.js";
import { KeepAliveKubeConfig } from "./controller/kubeconfig.js";
import { Manager } from "./controller/manager.js";

/**
 * The operator's entry point: kubeconfig from KUBECONFIG or in-cluster, settings from the
 * environment (see controller/config.ts), JSON logs on stdout.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = configFromEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`aiassistant-operator: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = pino({ level: config.logLevel, base: { component: "aiassistant-operator", identity: config.leaderElection.identity } });
  const kc = new KeepAliveKubeConfig();
  kc.loadFromDefault();
  const manager = new Manager(config, kc, logger);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    manager.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "unclean shutdown");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => {
    shutdown("SIGTERM");
  });
  process.once("SIGINT", () => {
    shutdown("SIGINT");
  });

  // Losing the Lease means another replica may already reconcile: stop at once, as client-go
  // does, and let the restart start clean. A shutdown gives the Lease up on purpose and exits 0.
  await manager.start(() => {
    if (stopping) return;
    logger.error("lost leadership; exiting");
    process.exit(1);
  });
  logger.info({ port: config.http.port }, "operator started");
}

await main();
