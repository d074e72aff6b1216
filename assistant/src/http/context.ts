import type { FastifyPluginCallbackJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { DialogManager } from "../dialog/dialog.js";
import type { ModelProvider } from "../llm/types.js";
import type { Masker } from "../masking/mask.js";
import type { Metrics } from "../observability/metrics.js";
import type { KnowledgeBase } from "../retrieval/knowledge-base.js";
import type { Skills } from "../skills/skills.js";
import type { Storage } from "../storage/types.js";
import type { Authenticator } from "./auth/authenticator.js";
import type { RateLimits } from "./rate-limit.js";

/** Lifecycle flags the process owns and the probes report. */
export interface ServiceState {
  draining: boolean;
  /** The listener is closing: requests still arriving on kept-alive connections are turned away. */
  closing: boolean;
  knowledgeLoaded: boolean;
}

export interface HttpLimits {
  maxMessageChars: number;
  /** The text of one request's messages (or skill arguments) together. */
  maxRequestChars: number;
  bodyLimitBytes: number;
  maxPageSize: number;
  /** The largest document upload (a JSON text or a file). */
  maxUploadBytes: number;
  sseHeartbeatMs: number;
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** A connection on which nothing moves either way for this long is closed (0: never). */
  connectionTimeoutMs: number;
}

export interface HttpContext {
  dialog: DialogManager;
  storage: Storage;
  knowledge: KnowledgeBase;
  /** Passages a knowledge search returns when the request names no topK. */
  knowledgeTopK: number;
  provider: ModelProvider;
  metrics: Metrics;
  /** The privacy rules' masker: decides which client request ids may be logged as they are. */
  masker: Masker;
  skills: Skills;
  state: ServiceState;
  limits: HttpLimits;
  authenticator: Authenticator;
  rateLimits?: RateLimits;
  /** Origins allowed to call from a browser on another origin. */
  corsOrigins: string[];
}

/** A file of routes: a Fastify plugin whose routes' schemas are their types (json-schema-to-ts). */
export type RoutePlugin = FastifyPluginCallbackJsonSchemaToTs<{ Options: HttpContext }>;
