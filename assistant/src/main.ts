import { statSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, loadConfig } from "./config/load.js";
import type { AssistantConfig } from "./config/schema.js";
import { DialogManager } from "./dialog/dialog.js";
import { buildApp } from "./http/app.js";
import { createAuthenticator, type Authenticator } from "./http/auth/authenticator.js";
import type { ServiceState } from "./http/context.js";
import { extractiveProvider } from "./llm/extractive.js";
import { openaiProvider } from "./llm/openai.js";
import { createMasker } from "./masking/mask.js";
import { createLogger } from "./observability/logger.js";
import { createMetrics } from "./observability/metrics.js";
import { bm25Retriever, syncKnowledgeDir } from "./retrieval/knowledge.js";
import { Skills } from "./skills/skills.js";
import { ASSISTANT_KNOWLEDGE_TENANT, assistantKnowledge } from "./retrieval/shared-knowledge.js";
import { openSqliteStorage } from "./storage/sqlite.js";

function knowledgeDir(config: AssistantConfig): string | undefined {
  if (config.knowledge.dir === undefined) return undefined;
  const dir = resolve(config.knowledge.dir);
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // reported below with the field name
  }
  if (!isDirectory) throw new ConfigError(`config field knowledge.dir: ${dir} is not a readable directory`);
  return dir;
}

/** A configuration the service cannot run with ends the start with exit code 2 and the reason. */
function refuseToStart(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`assistant: ${error.message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let config: AssistantConfig;
  let dir: string | undefined;
  try {
    config = loadConfig(process.env);
    dir = knowledgeDir(config);
  } catch (error) {
    refuseToStart(error);
  }

  const masker = createMasker(config.privacy.mode, config.privacy.rules);
  const logger = createLogger(process.env["LOG_LEVEL"] ?? "info", masker);
  let authenticator: Authenticator;
  try {
    authenticator = await createAuthenticator(config.auth, logger);
  } catch (error) {
    refuseToStart(error);
  }
  const storage = openSqliteStorage(config.dataDir, config.storage.synchronous);
  const window = config.server.activeConversationWindowSeconds * 1000;
  const metrics = createMetrics(() => storage.countActiveConversations(new Date(Date.now() - window).toISOString()));
  const provider = config.model.provider === "openai" ? openaiProvider(config.model, config.modelApiKey) : extractiveProvider();
  const skills = new Skills(config.skills, config.skillOptions, config.skillHosts, config.skillAuthorizations, metrics);
  const dialog = new DialogManager({
    conversations: storage,
    retriever: assistantKnowledge(bm25Retriever(storage)),
    provider,
    metrics,
    masker,
    skills,
    options: {
      systemPrompt: config.systemPrompt,
      topK: config.knowledge.topK,
      historyTokens: config.limits.historyTokens,
      modelSeesOriginal: config.privacy.modelSeesOriginal,
    },
  });
  const state: ServiceState = { draining: false, closing: false, knowledgeLoaded: dir === undefined };
  const app = await buildApp(
    {
      dialog,
      storage,
      provider,
      metrics,
      skills,
      state,
      limits: {
        maxMessageChars: config.limits.maxMessageChars,
        bodyLimitBytes: config.limits.bodyLimitBytes,
        maxPageSize: config.limits.maxPageSize,
        sseHeartbeatMs: config.server.sseHeartbeatMs,
        requestTimeoutMs: config.server.requestTimeoutMs,
        connectionTimeoutMs: config.server.connectionTimeoutMs,
      },
      authenticator,
      ...(config.rateLimit === undefined ? {} : { rateLimits: config.rateLimit }),
      corsOrigins: config.cors.origins,
    },
    logger,
  );

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    state.draining = true;
    logger.info({ signal, drainDelayMs: config.server.drainDelayMs }, "draining: readyz reports not ready");
    await new Promise((done) => setTimeout(done, config.server.drainDelayMs));
    state.closing = true;
    logger.info({ graceMs: config.server.shutdownGraceMs }, "closing listener, waiting for in-flight requests");
    const force = setTimeout(() => {
      logger.warn({ graceMs: config.server.shutdownGraceMs }, "grace period over, closing remaining connections");
      app.server.closeAllConnections();
    }, config.server.shutdownGraceMs);
    await app.close();
    clearTimeout(force);
    await storage.close();
    logger.info("stopped");
    process.exit(0);
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => void shutdown(signal));
  }

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  logger.info({ port: typeof address === "object" && address !== null ? address.port : config.port, model: provider.model }, "listening");

  if (dir !== undefined) {
    const started = Date.now();
    try {
      const report = await syncKnowledgeDir(storage, ASSISTANT_KNOWLEDGE_TENANT, dir, config.knowledge.chunkChars);
      state.knowledgeLoaded = true;
      logger.info({ ...report, ms: Date.now() - started }, "knowledge loaded");
    } catch (error) {
      // A shutdown that closed the database mid-ingestion is not a failure.
      if (state.draining) return;
      // Serving without the knowledge base would answer "not found" to everything: fail visibly instead.
      logger.fatal({ err: error, dir }, "knowledge ingestion failed");
      process.exit(1);
    }
  }
}

await main();
