/**
 * Generated AIAssistant specs for the admission fuzz test: a valid, rich spec with one or more
 * random mutations — a field replaced by a value of the wrong type, out of range, huge, empty,
 * or deeply nested; a required field dropped; an unknown field added. Seeded, so a failure
 * names a case that can be reproduced.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const base: { [key: string]: Json } = {
  image: "ai-assistant:v1",
  replicas: 1,
  model: { provider: "openai", baseURL: "http://vllm.models.svc:8000/v1", name: "qwen", temperature: 0.2, timeoutSeconds: 30 },
  knowledge: { sources: [{ name: "handbook", configMap: { name: "hb" } }] },
  storage: { mode: "embedded", size: "2Gi" },
  rollout: { autoPromotion: true, scaleDownDelaySeconds: 30, progressDeadlineSeconds: 600 },
  auth: { mode: "oidc", oidc: { issuer: "https://id.example.com", audience: "chat" } },
  rateLimit: { perUser: { max: 60, windowSeconds: 60 } },
  privacy: { mode: "mask", rules: [{ name: "employee", pattern: "EMP-\\d{6}" }] },
  skills: [{ name: "order", description: "Look up an order", endpoint: { url: "http://erp.apps.svc/orders" } }],
  service: { port: 80 },
  ingress: { enabled: true, host: "chat.example.com", tls: { secretName: "chat-tls" } },
  networkPolicy: { enabled: true, egressCIDRs: ["203.0.113.0/24"] },
  monitoring: { enabled: false },
  env: [{ name: "LOG_LEVEL", value: "debug" }],
};

const hostileValues: Json[] = [
  null,
  -1,
  0,
  1e15,
  3.5,
  "",
  " ",
  "x".repeat(70_000),
  "💥\u0000\u202e",
  "../../etc/passwd",
  "${jndi:ldap://x}",
  "<script>alert(1)</script>",
  true,
  [],
  [null],
  {},
  { $ref: "#/" },
  { nested: { deeper: { deepest: [1, "two", { three: 3 }] } } },
  "not-a-url",
  "http://",
  "Never",
  "postgres",
  "999999Gi",
  "-5",
];

/** Mulberry32: a tiny seeded PRNG, so runs are reproducible. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every path to a value in `value` (objects and arrays included). */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const found: (string | number)[][] = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(value)) value.forEach((item, i) => found.push(...paths(item, [...prefix, i])));
  else if (value !== null && typeof value === "object") for (const [key, item] of Object.entries(value)) found.push(...paths(item, [...prefix, key]));
  return found;
}

function mutate(spec: { [key: string]: Json }, next: () => number): void {
  const all = paths(spec);
  const path = all[Math.floor(next() * all.length)] ?? ["image"];
  const parent = path.slice(0, -1).reduce<Json>((node, key) => (node as Record<string | number, Json>)[key] ?? null, spec) as Record<string | number, Json> | null;
  const key = path.at(-1) ?? "image";
  if (parent === null || typeof parent !== "object") return;
  const roll = next();
  if (roll < 0.15) {
    // Dropped (a required field, sometimes).
    if (Array.isArray(parent) && typeof key === "number") parent.splice(key, 1);
    else Reflect.deleteProperty(parent, key);
  } else if (roll < 0.25) {
    (parent as Record<string, Json>)[`unknown${String(Math.floor(next() * 100))}`] = "surprise";
  } else {
    parent[key] = hostileValues[Math.floor(next() * hostileValues.length)] ?? null;
  }
}

export function hostileSpecs(count: number, seed: number): { [key: string]: Json }[] {
  const next = random(seed);
  return Array.from({ length: count }, () => {
    const spec = JSON.parse(JSON.stringify(base)) as { [key: string]: Json };
    const mutations = 1 + Math.floor(next() * 3);
    for (let i = 0; i < mutations; i++) mutate(spec, next);
    return spec;
  });
}
