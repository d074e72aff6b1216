import { createHash } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import type { V1EnvVar } from "@kubernetes/client-node";
import { stringify } from "yaml";
import type { AssistantConfigFile } from "../api/assistant-config.generated.js";
import type { AIAssistant, AIAssistantSpec } from "../api/types.generated.js";

/**
 * Where the pod sees what the operator gives it. The mounts are siblings, never one inside another:
 * with a read-only root filesystem the runtime cannot create a mount point inside a read-only
 * volume (a knowledge source under the config volume failed to start with EROFS).
 */
export const paths = {
  configDir: "/etc/assistant/config",
  configFile: "/etc/assistant/config/config.yaml",
  dataDir: "/app/data",
  tmpDir: "/tmp",
  knowledgeDir: "/etc/assistant/knowledge",
  apiKeysDir: "/etc/assistant/api-keys",
} as const;
export const containerPort = 8080;
/** How long the kubelet lets an assistant pod stop before it kills it. */
export const terminationGracePeriodSeconds = 30;

/**
 * How a pod stops. It keeps answering for a while after SIGTERM, every answer closing its
 * connection, so that no client is sent to it after it is gone: with other pods to take the
 * traffic (postgres storage), until its failing readiness (probed every second, 2 failures) takes it
 * out of the Service and kube-proxy catches up; with embedded storage, whose cutover has already
 * pointed the Service elsewhere, until kube-proxy has applied that (it syncs at most once a second).
 * Then it closes and finishes what is in flight.
 */
function shutdownTimings(spec: AIAssistantSpec): { drainDelayMs: number; shutdownGraceMs: number } {
  const drainDelayMs = spec.storage.mode === "postgres" ? 5000 : 1000;
  // A margin for the process to exit before the kubelet's SIGKILL.
  return { drainDelayMs, shutdownGraceMs: terminationGracePeriodSeconds * 1000 - drainDelayMs - 3000 };
}

/** Environment variable names that carry secret values into the pod (never the values). */
export const secretEnv = {
  modelApiKey: "MODEL_API_KEY",
  embeddingsApiKey: "EMBEDDINGS_API_KEY",
  databaseURL: "DATABASE_URL",
  skillAuth: (skill: string) => `SKILL_${skill.toUpperCase().replaceAll("-", "_")}_AUTHORIZATION`,
} as const;

/**
 * The assistant's config file (the second contract in docs/design.md), rendered from the spec and
 * typed by the assistant's own schema (assistant-config.generated.ts), so a field either side
 * renames fails to compile here. A field the spec leaves unset is undefined here and left out of the
 * YAML, for the assistant's default. Secret values never appear: the file names the environment
 * variables that carry them. The order of the fields is the order of the YAML, whose hash names the
 * pod template's revision.
 */
function renderAssistantConfig(spec: AIAssistantSpec): AssistantConfigFile {
  const skills = spec.skills ?? [];
  return {
    systemPrompt: spec.systemPrompt,
    model: renderModel(spec.model),
    embeddings: spec.embeddings && renderEmbeddings(spec.embeddings),
    storage: spec.storage.mode === "postgres" ? { mode: "postgres", urlEnv: secretEnv.databaseURL } : { mode: "embedded" },
    knowledge: spec.knowledge && renderKnowledge(spec.knowledge),
    auth: renderAuth(spec.auth),
    rateLimit: spec.rateLimit,
    server: shutdownTimings(spec),
    privacy: { mode: spec.privacy.mode, rules: spec.privacy.rules ?? [] },
    ...(skills.length > 0 ? renderSkills(skills) : {}),
  };
}

function renderModel({
  provider,
  baseURL,
  name,
  apiKeySecretRef,
  temperature,
  topP,
  maxTokens,
  timeoutSeconds,
  answerTimeoutSeconds,
  passagePlacement,
}: AIAssistantSpec["model"]): AssistantConfigFile["model"] {
  if (provider !== "openai") return { provider };
  return {
    provider,
    baseURL,
    name,
    apiKeyEnv: apiKeySecretRef && secretEnv.modelApiKey,
    temperature,
    topP,
    maxTokens,
    passagePlacement,
    timeoutMs: timeoutSeconds * 1000,
    answerTimeoutMs: answerTimeoutSeconds * 1000,
  };
}

function renderEmbeddings(embeddings: NonNullable<AIAssistantSpec["embeddings"]>): AssistantConfigFile["embeddings"] {
  const { baseURL, model, apiKeySecretRef, dimensions, queryPrefix, passagePrefix, inputType } = embeddings;
  return { baseURL, model, apiKeyEnv: apiKeySecretRef && secretEnv.embeddingsApiKey, dimensions, queryPrefix, passagePrefix, inputType };
}

/**
 * Every mounted source is a folder under one knowledge root, which the assistant walks; URL sources
 * the assistant fetches itself (the NetworkPolicy opens egress to their hosts).
 */
function renderKnowledge({ sources = [], topK, chunkChars, chunkOverlapChars }: NonNullable<AIAssistantSpec["knowledge"]>): AssistantConfigFile["knowledge"] {
  const urls = sources.flatMap((source) => (source.url === undefined ? [] : [{ url: source.url }]));
  return {
    dir: urls.length < sources.length ? paths.knowledgeDir : undefined,
    urls: urls.length > 0 ? urls : undefined,
    topK,
    chunkChars,
    chunkOverlapChars,
  };
}

function renderAuth({ mode, apiKeysSecretRef, oidc }: AIAssistantSpec["auth"]): AssistantConfigFile["auth"] {
  return {
    mode,
    apiKeysDir: apiKeysSecretRef && paths.apiKeysDir,
    oidc: oidc && { issuer: oidc.issuer, audience: oidc.audience, jwksUri: oidc.jwksURI, tenantClaim: oidc.tenantClaim, userClaim: oidc.userClaim },
  };
}

function renderSkills(skills: NonNullable<AIAssistantSpec["skills"]>): Pick<AssistantConfigFile, "skills" | "skillHosts" | "skillOptions"> {
  return {
    skills: skills.map((s) => ({
      name: s.name,
      description: s.description,
      parameters: s.parameters,
      endpoint: s.endpoint,
      timeoutMs: s.timeoutMs,
      confirm: s.confirm,
      authorizationEnv: s.authSecretRef && secretEnv.skillAuth(s.name),
    })),
    skillHosts: [...new Set(skills.map((s) => hostPort(s.endpoint.url)))],
    // The assistant refuses private addresses for skills unless told otherwise; a skill the spec
    // names by its in-cluster Service name or a private IP is meant to be reached there.
    skillOptions: skills.some((s) => reachedPrivately(s.endpoint.url)) ? { allowPrivateNetworks: true } : undefined,
  };
}

function reachedPrivately(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  if (/\.svc(\.cluster\.local)?$/.test(host)) return true;
  if (isIPv4(host)) {
    const [a = 0, b = 0] = host.split(".").map(Number);
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  return isIPv6(host) && /^f[cd]/i.test(host);
}

function hostPort(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === "https:" ? "443" : "80")}`;
}

export function renderAssistantConfigYAML(spec: AIAssistantSpec): string {
  return stringify(renderAssistantConfig(spec), { lineWidth: 0 });
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Env vars that bring Secret values into the container by reference. */
export function secretEnvVars(spec: AIAssistantSpec): V1EnvVar[] {
  const fromSecret = (name: string, ref: { name: string; key: string }): V1EnvVar => ({
    name,
    valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } },
  });
  const env: V1EnvVar[] = [];
  if (spec.model.apiKeySecretRef) env.push(fromSecret(secretEnv.modelApiKey, spec.model.apiKeySecretRef));
  if (spec.embeddings?.apiKeySecretRef) env.push(fromSecret(secretEnv.embeddingsApiKey, spec.embeddings.apiKeySecretRef));
  if (spec.storage.mode === "postgres" && spec.storage.postgres) env.push(fromSecret(secretEnv.databaseURL, spec.storage.postgres.urlSecretRef));
  for (const skill of spec.skills ?? []) {
    if (skill.authSecretRef) env.push(fromSecret(secretEnv.skillAuth(skill.name), skill.authSecretRef));
  }
  return env;
}

export interface ObjectReference {
  kind: "Secret" | "ConfigMap";
  name: string;
  /** Set only when the spec names one explicitly; it must be the AIAssistant's own. */
  namespace?: string;
  key?: string;
  /** The spec field that makes the reference, for messages. */
  field: string;
}

/** Every Secret and ConfigMap the pods and jobs need; a missing one would leave them stuck. */
export function referencedObjects(aia: AIAssistant): ObjectReference[] {
  const spec = aia.spec;
  const refs: ObjectReference[] = [];
  const secret = (field: string, ref: { name: string; namespace?: string; key?: string } | undefined) => {
    if (ref) {
      refs.push({
        kind: "Secret",
        name: ref.name,
        ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
        ...(ref.key === undefined ? {} : { key: ref.key }),
        field,
      });
    }
  };
  secret("spec.model.apiKeySecretRef", spec.model.apiKeySecretRef);
  secret("spec.embeddings.apiKeySecretRef", spec.embeddings?.apiKeySecretRef);
  if (spec.storage.mode === "postgres") secret("spec.storage.postgres.urlSecretRef", spec.storage.postgres?.urlSecretRef);
  secret("spec.auth.apiKeysSecretRef", spec.auth.apiKeysSecretRef);
  for (const skill of spec.skills ?? []) secret(`spec.skills[${skill.name}].authSecretRef`, skill.authSecretRef);
  for (const source of spec.knowledge?.sources ?? []) {
    if (source.configMap) refs.push({ kind: "ConfigMap", name: source.configMap.name, field: `spec.knowledge.sources[${source.name}].configMap` });
    secret(`spec.knowledge.sources[${source.name}].secret`, source.secret);
  }
  if (spec.backup.enabled) secret("spec.backup.s3.credentialsSecretRef", spec.backup.s3?.credentialsSecretRef);
  return refs;
}
