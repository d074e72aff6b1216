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
import { createMasker, outboundText } from "./masking/mask.js";
import { createLogger } from "./observability/logger.js";
import { createMetrics } from "./observability/metrics.js";
import { ASSISTANT_COLLECTION } from "./retrieval/collections.js";
import { openaiEmbedder } from "./retrieval/embeddings.js";
import { hybridRetriever } from "./retrieval/hybrid.js";
import { IngestionQueue } from "./retrieval/ingestion.js";
import { bm25Retriever, repeatSync, syncKnowledgeDir } from "./retrieval/knowledge.js";
import type { SyncReport } from "./retrieval/source-sync.js";
import { syncKnowledgeUrls } from "./retrieval/url-sources.js";
import { KnowledgeBase } from "./retrieval/knowledge-base.js";
import { Skills } from "./skills/skills.js";
import { openPostgresStorage } from "./storage/postgres.js";
import { openSqliteStorage } from "./storage/sqlite.js";
import { lockDataVolume, type VolumeLock } from "./storage/volume-lock.js";
import type { Storage } from "./storage/types.js";

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
  let storage: Storage;
  let volume: VolumeLock | undefined;
  try {
    if (config.databaseUrl === undefined) {
      const { dataDir } = config;
      volume = await lockDataVolume(dataDir, {
        waitMs: config.storage.startupWaitSeconds * 1000,
        onWaiting: (waitedMs) => {
          logger.info({ dataDir, waitedMs }, "waiting for the process that has the data directory to stop");
        },
      });
      storage = openSqliteStorage(dataDir, config.storage.synchronous);
    } else {
      storage = await openPostgresStorage(config.databaseUrl, {
        onIdleConnectionError: (error) => {
          logger.warn({ problem: error.message }, "an idle PostgreSQL connection broke; the pool opens a new one when needed");
        },
        startupWaitMs: config.storage.startupWaitSeconds * 1000,
        onUnreachable: (problem, waitedMs) => {
          logger.warn({ problem, waitedMs }, "waiting for the database");
        },
      });
    }
  } catch (error) {
    // Never the URL: it carries the password.
    logger.fatal({ problem: (error as Error).message, mode: config.storage.mode }, "cannot open the storage");
    process.exit(1);
  }
  const window = config.server.activeConversationWindowSeconds * 1000;
  const metrics = createMetrics(() => storage.countActiveConversations(new Date(Date.now() - window).toISOString()));
  const provider = config.model.provider === "openai" ? openaiProvider(config.model, config.modelApiKey) : extractiveProvider();
  const skills = new Skills(config.skills, config.skillOptions, config.skillHosts, config.skillAuthorizations, metrics);
  const embedder = config.embeddings === undefined ? undefined : openaiEmbedder(config.embeddings, config.embeddingsApiKey);
  const retriever = embedder === undefined ? bm25Retriever(storage) : hybridRetriever(storage, embedder, config.knowledge.hybrid, logger, outboundText(masker, config.privacy.modelSeesOriginal));
  const { chunkChars, chunkOverlapChars, maxAttempts, retryDelayMs, jobRetentionDays, ingestionWorkers, parseTimeoutMs, parseMemoryMb, maxDocumentChars, maxUncompressedBytes } =
    config.knowledge;
  const ingestion = new IngestionQueue(
    storage,
    {
      chunkChars,
      chunkOverlapChars,
      maxAttempts,
      retryBaseMs: retryDelayMs,
      jobRetentionMs: jobRetentionDays * 86400000,
      workers: ingestionWorkers,
      prepareTimeoutMs: parseTimeoutMs,
      prepareMemoryMb: parseMemoryMb,
      limits: { maxDocumentChars, maxUncompressedBytes },
      ...(config.privacy.maskKnowledge ? { mask: { mode: config.privacy.mode, rules: config.privacy.rules } } : {}),
    },
    metrics,
    logger,
    embedder,
  );
  const dialog = new DialogManager({
    conversations: storage,
    retriever,
    provider,
    metrics,
    masker,
    skills,
    options: {
      systemPrompt: config.systemPrompt,
      topK: config.knowledge.topK,
      historyTokens: config.limits.historyTokens,
      modelSeesOriginal: config.privacy.modelSeesOriginal,
      abstention: config.knowledge.abstention,
      passagePlacement: config.model.passagePlacement,
    },
  });
  // The assistant's own knowledge: the mounted folder and the URLs, each synced at start and then again every so often.
  const urls = config.knowledge.urls.map(({ url }) => url);
  const sources: { what: string; intervalSeconds: number; sync: () => Promise<SyncReport> }[] = [
    ...(dir === undefined ? [] : [{ what: dir, intervalSeconds: config.knowledge.resyncSeconds, sync: () => syncKnowledgeDir(storage, ingestion, dir, logger) }]),
    ...(urls.length === 0
      ? []
      : [
          {
            what: "knowledge.urls",
            intervalSeconds: config.knowledge.urlRefreshSeconds,
            sync: () => syncKnowledgeUrls(storage, ingestion, urls, { maxBytes: config.knowledge.maxUploadBytes, timeoutMs: config.knowledge.urlTimeoutMs }, logger),
          },
        ]),
  ];
  const state: ServiceState = { draining: false, closing: false, knowledgeLoaded: sources.length === 0 };
  const app = await buildApp(
    {
      dialog,
      storage,
      knowledge: new KnowledgeBase(storage, ingestion, retriever),
      knowledgeTopK: config.knowledge.topK,
      provider,
      metrics,
      masker,
      skills,
      state,
      limits: {
        maxMessageChars: config.limits.maxMessageChars,
        maxRequestChars: config.limits.maxRequestChars,
        bodyLimitBytes: config.limits.bodyLimitBytes,
        maxPageSize: config.limits.maxPageSize,
        maxUploadBytes: config.knowledge.maxUploadBytes,
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

  const stopResyncs: (() => void)[] = [];
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
    for (const stop of stopResyncs) stop();
    await ingestion.stop();
    await storage.close();
    volume?.release();
    logger.info("stopped");
    process.exit(0);
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => void shutdown(signal));
  }

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  logger.info({ port: typeof address === "object" && address !== null ? address.port : config.port, model: provider.model }, "listening");

  await ingestion.start();
  const started = Date.now();
  try {
    for (const { what, intervalSeconds, sync } of sources) {
      const { jobIds, ...report } = await sync();
      await Promise.all(jobIds.map((id) => ingestion.finished(ASSISTANT_COLLECTION, id)));
      logger.info({ what, ...report, ms: Date.now() - started }, "knowledge loaded");
      if (intervalSeconds > 0) stopResyncs.push(repeatSync(what, intervalSeconds * 1000, sync, logger));
    }
    state.knowledgeLoaded = true;
  } catch (error) {
    // A shutdown that closed the database mid-ingestion is not a failure.
    if (state.draining) return;
    // Serving without the knowledge base would answer "not found" to everything: fail visibly instead.
    logger.fatal({ err: error, dir }, "knowledge ingestion failed");
    process.exit(1);
  }
}

await main();
