import { createHash } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import type { V1EnvVar } from "@kubernetes/client-node";
import { stringify } from "yaml";
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
  const drainDelayMs = spec.storage.mode === "postgres" ? 5000 : 1500;
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
 * The assistant's config file (the second contract in docs/design.md), rendered from the spec. Secret values
 * never appear here: the file names the environment variables that carry them.
 */
export function renderAssistantConfig(spec: AIAssistantSpec): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  if (spec.systemPrompt !== undefined) config["systemPrompt"] = spec.systemPrompt;

  const { provider, baseURL, name, apiKeySecretRef, temperature, topP, maxTokens, timeoutSeconds, passagePlacement } = spec.model;
  config["model"] =
    provider === "openai"
      ? {
          provider,
          baseURL,
          name,
          ...(apiKeySecretRef ? { apiKeyEnv: secretEnv.modelApiKey } : {}),
          ...(temperature === undefined ? {} : { temperature }),
          ...(topP === undefined ? {} : { topP }),
          ...(maxTokens === undefined ? {} : { maxTokens }),
          ...(passagePlacement === undefined ? {} : { passagePlacement }),
          timeoutMs: timeoutSeconds * 1000,
        }
      : { provider };

  if (spec.embeddings) {
    const { baseURL: url, model, apiKeySecretRef: keyRef, dimensions, queryPrefix, passagePrefix, inputType } = spec.embeddings;
    config["embeddings"] = {
      baseURL: url,
      model,
      ...(keyRef ? { apiKeyEnv: secretEnv.embeddingsApiKey } : {}),
      ...(dimensions === undefined ? {} : { dimensions }),
      ...(queryPrefix === undefined ? {} : { queryPrefix }),
      ...(passagePrefix === undefined ? {} : { passagePrefix }),
      ...(inputType === undefined ? {} : { inputType }),
    };
  }

  config["storage"] = spec.storage.mode === "postgres" ? { mode: "postgres", urlEnv: secretEnv.databaseURL } : { mode: "embedded" };

  // Every mounted source is a folder under one knowledge root, which the assistant walks; URL
  // sources the assistant fetches itself (the NetworkPolicy opens egress to their hosts).
  if (spec.knowledge) {
    const { sources = [], topK, chunkChars, chunkOverlapChars } = spec.knowledge;
    const urls = sources.flatMap((source) => (source.url === undefined ? [] : [{ url: source.url }]));
    config["knowledge"] = {
      ...(urls.length < sources.length ? { dir: paths.knowledgeDir } : {}),
      ...(urls.length > 0 ? { urls } : {}),
      topK,
      chunkChars,
      chunkOverlapChars,
    };
  }

  const { mode, apiKeysSecretRef, oidc } = spec.auth;
  config["auth"] = {
    mode,
    ...(apiKeysSecretRef ? { apiKeysDir: paths.apiKeysDir } : {}),
    ...(oidc
      ? { oidc: { issuer: oidc.issuer, audience: oidc.audience, jwksUri: oidc.jwksURI, tenantClaim: oidc.tenantClaim, userClaim: oidc.userClaim } }
      : {}),
  };
  if (spec.rateLimit) config["rateLimit"] = spec.rateLimit;
  config["server"] = shutdownTimings(spec);
  config["privacy"] = { mode: spec.privacy.mode, rules: spec.privacy.rules ?? [] };

  const skills = spec.skills ?? [];
  if (skills.length > 0) {
    config["skills"] = skills.map((s) => ({
      name: s.name,
      description: s.description,
      ...(s.parameters ? { parameters: s.parameters } : {}),
      endpoint: s.endpoint,
      timeoutMs: s.timeoutMs,
      confirm: s.confirm,
      ...(s.authSecretRef ? { authorizationEnv: secretEnv.skillAuth(s.name) } : {}),
    }));
    config["skillHosts"] = [...new Set(skills.map((s) => hostPort(s.endpoint.url)))];
    // The assistant refuses private addresses for skills unless told otherwise; a skill the spec
    // names by its in-cluster Service name or a private IP is meant to be reached there.
    if (skills.some((s) => reachedPrivately(s.endpoint.url))) config["skillOptions"] = { allowPrivateNetworks: true };
  }
  return config;
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
