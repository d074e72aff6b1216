import { performance } from "node:perf_hooks";
import { Ajv, type ValidateFunction } from "ajv";
import type { SkillConfig, SkillOptions } from "../config/schema.js";
import type { Metrics } from "../observability/metrics.js";
import { callEndpoint, type EndpointPolicy, type EndpointRequest } from "./endpoint.js";
import { SkillError } from "./errors.js";

/** Who calls, as audit lines name them. */
export interface Actor {
  tenant: string;
  user: string;
  authMethod: string;
  keyName?: string | undefined;
}

export interface AuditLog {
  info(fields: Record<string, unknown>, message: string): void;
}

/** The caller of a skill and the log its audit line goes to (the request's, which carries its id). */
export interface SkillCaller {
  actor: Actor;
  requestId: string;
  log: AuditLog;
}

/** How the invocation arrived: the invoke route, a chat command, or a model's tool call. */
export type SkillChannel = "invoke" | "command" | "model";

export interface SkillInvocation {
  arguments: unknown;
  /** The request explicitly confirmed a side-effecting skill. */
  confirmed: boolean;
  via: SkillChannel;
  signal: AbortSignal;
}

export interface SkillResult {
  skill: string;
  status: number;
  /** Parsed JSON when the skill answered JSON, else its text. */
  result: unknown;
  /** The answer exactly as received. */
  text: string;
}

/**
 * What clients and the model learn about a skill: never its URL or credentials. A type alias, so
 * that the skills route may answer with it (see storage/types.ts).
 */
export type SkillDescription = {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  confirm: boolean;
};

interface Skill extends SkillDescription {
  config: SkillConfig;
  validate: ValidateFunction;
  authorization: string | undefined;
}

const ANY_OBJECT = { type: "object" };
const REJECTION_EXCERPT_CHARS = 500;

function requestFor(skill: Skill, args: Record<string, unknown>, caller: SkillCaller): EndpointRequest {
  const { url: target, method } = skill.config.endpoint;
  const headers: Record<string, string> = {
    accept: "application/json",
    "x-request-id": caller.requestId,
    // Header values must be Latin-1; tenants and users (OIDC claims) may be any text.
    "x-assistant-tenant": encodeURIComponent(caller.actor.tenant),
    "x-assistant-user": encodeURIComponent(caller.actor.user),
    ...(skill.authorization === undefined ? {} : { authorization: skill.authorization }),
  };
  const url = new URL(target);
  if (method === "GET" || method === "DELETE") {
    for (const [name, value] of Object.entries(args)) {
      if (value !== null && value !== undefined) url.searchParams.append(name, typeof value === "string" ? value : JSON.stringify(value));
    }
    return { url, method, headers };
  }
  return { url, method, headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(args) };
}

function parsed(text: string, contentType: string | undefined): unknown {
  if (!/\bjson\b/i.test(contentType ?? "")) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The configured skills: argument validation, the confirmation rule, the guarded HTTP call, and
 * per skill metrics and one audit line per invocation (who, tenant, skill, outcome, duration; never
 * the arguments or the answer, which may hold personal data).
 */
export class Skills {
  private readonly byName = new Map<string, Skill>();
  private readonly policy: EndpointPolicy;
  private readonly ajv = new Ajv({ strict: false, allErrors: false, coerceTypes: false });

  constructor(
    configs: readonly SkillConfig[],
    readonly options: SkillOptions,
    skillHosts: readonly string[],
    authorizations: Readonly<Record<string, string>>,
    private readonly metrics: Metrics,
  ) {
    for (const config of configs) {
      const parameters = config.parameters ?? ANY_OBJECT;
      this.byName.set(config.name, {
        name: config.name,
        description: config.description,
        parameters,
        confirm: config.confirm,
        config,
        validate: this.ajv.compile(parameters),
        authorization: authorizations[config.name],
      });
    }
    this.policy = {
      allowedHosts: new Set(skillHosts.map((host) => host.toLowerCase())),
      allowPrivateNetworks: options.allowPrivateNetworks,
      maxResponseBytes: options.maxResponseBytes,
    };
  }

  describe(): SkillDescription[] {
    return [...this.byName.values()].map(({ name, description, parameters, confirm }) => ({ name, description, parameters, confirm }));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  async invoke(caller: SkillCaller, name: string, invocation: SkillInvocation): Promise<SkillResult> {
    const started = performance.now();
    // Unknown names are not counted: the label would be whatever a caller sends.
    const skill = this.byName.get(name);
    if (skill === undefined) throw new SkillError("skill_not_found", `no skill named ${name}`);
    let outcome = "ok";
    let status: number | undefined;
    try {
      if (!skill.validate(invocation.arguments)) {
        throw new SkillError("invalid_arguments", `arguments do not match ${name}'s parameters: ${this.ajv.errorsText(skill.validate.errors, { dataVar: "arguments" })}`);
      }
      if (skill.confirm && !invocation.confirmed) {
        throw new SkillError("confirmation_required", `${name} changes data: repeat the request with explicit confirmation`);
      }
      const stopTimer = this.metrics.skillDuration.startTimer({ skill: name });
      const response = await callEndpoint(requestFor(skill, invocation.arguments as Record<string, unknown>, caller), this.policy, skill.config.timeoutMs, invocation.signal).finally(() => {
        stopTimer();
      });
      status = response.status;
      if (status >= 400 && status < 500) {
        throw new SkillError("skill_rejected", `${name} refused the request with ${status}: ${response.body.slice(0, REJECTION_EXCERPT_CHARS)}`);
      }
      if (status < 200 || status > 299) throw new SkillError("skill_failed", `${name} answered ${status}`);
      return { skill: name, status, result: parsed(response.body, response.headers["content-type"]), text: response.body };
    } catch (error) {
      outcome = error instanceof SkillError ? error.code : "aborted";
      throw error;
    } finally {
      this.metrics.skillCalls.inc({ skill: name, outcome });
      if (outcome !== "ok" && outcome !== "confirmation_required") this.metrics.skillErrors.inc({ skill: name, code: outcome });
      caller.log.info(
        {
          audit: true,
          skill: name,
          via: invocation.via,
          outcome,
          skillStatus: status,
          confirmed: invocation.confirmed,
          durationMs: Math.round((performance.now() - started) * 1000) / 1000,
          actor: caller.actor,
        },
        "skill call",
      );
    }
  }
}
