import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** One registry per service instance, so tests and the benchmark can run several in one process. */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status">;
  httpDuration: Histogram<"method" | "route" | "status">;
  chatTurns: Counter<"endpoint" | "outcome">;
  declines: Counter<"reason">;
  activeConversations: Gauge;
  modelDuration: Histogram<"provider" | "model" | "outcome">;
  modelTokens: Counter<"provider" | "model" | "kind">;
  authFailures: Counter<"reason">;
  rateLimited: Counter<"scope">;
  skillCalls: Counter<"skill" | "outcome">;
  skillErrors: Counter<"skill" | "code">;
  skillDuration: Histogram<"skill">;
  ingestionJobs: Counter<"outcome">;
  ingestionDuration: Histogram<"format">;
}

export function createMetrics(countActiveConversations: () => Promise<number>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: "http_requests_total",
      help: "HTTP requests by method, route template and status code.",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration in seconds.",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    chatTurns: new Counter({
      name: "assistant_chat_turns_total",
      help: "Chat turns answered, by endpoint and outcome.",
      labelNames: ["endpoint", "outcome"],
      registers: [registry],
    }),
    declines: new Counter({
      name: "assistant_answers_declined_total",
      help: "Questions answered as not in the knowledge base, by reason (evidence: the passages were too weak to answer from; model: the model cited none of them).",
      labelNames: ["reason"],
      registers: [registry],
    }),
    activeConversations: new Gauge({
      name: "assistant_active_conversations",
      help: "Conversations with a turn inside the activity window (server.activeConversationWindowSeconds).",
      registers: [registry],
      async collect() {
        this.set(await countActiveConversations());
      },
    }),
    modelDuration: new Histogram({
      name: "assistant_model_request_duration_seconds",
      help: "Model generation time in seconds, by provider, model and outcome.",
      labelNames: ["provider", "model", "outcome"],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    modelTokens: new Counter({
      name: "assistant_model_tokens_total",
      help: "Model tokens used, by provider, model and kind (prompt or completion).",
      labelNames: ["provider", "model", "kind"],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: "assistant_auth_failures_total",
      help: "Requests refused for missing or invalid credentials, by reason (expired, wrong_audience, unknown_api_key, ...).",
      labelNames: ["reason"],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "assistant_rate_limited_total",
      help: "Requests refused with 429, by the limit they hit (user or tenant).",
      labelNames: ["scope"],
      registers: [registry],
    }),
    skillCalls: new Counter({
      name: "assistant_skill_calls_total",
      help: "Skill invocations, by skill and outcome (ok, or the error code such as skill_timeout or confirmation_required).",
      labelNames: ["skill", "outcome"],
      registers: [registry],
    }),
    skillErrors: new Counter({
      name: "assistant_skill_errors_total",
      help: "Skill invocations that failed, by skill and error code (invalid_arguments, skill_blocked, skill_timeout, skill_failed, ...).",
      labelNames: ["skill", "code"],
      registers: [registry],
    }),
    skillDuration: new Histogram({
      name: "assistant_skill_request_duration_seconds",
      help: "Time of the HTTP requests to skill endpoints in seconds, by skill.",
      labelNames: ["skill"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    ingestionJobs: new Counter({
      name: "assistant_ingestion_jobs_total",
      help: "Knowledge ingestion attempts, by outcome (indexed, unchanged, retried, failed).",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    ingestionDuration: new Histogram({
      name: "assistant_ingestion_duration_seconds",
      help: "Time to parse, chunk and index one document in seconds, by format.",
      labelNames: ["format"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
  };
}
