import assert from "node:assert/strict";
import { base64url, SignJWT, UnsecuredJWT } from "jose";
import { apiClient, type ErrorBody } from "../support/client.js";
import { startIssuer, type TestIssuer } from "../support/oidc-issuer.js";
import { startService, type RunningService } from "../support/service.js";

interface ChatReply {
  conversationId: string;
}

const oidcConfig = (issuer: TestIssuer, extra: Record<string, unknown> = {}) => ({
  issuer: issuer.issuer,
  audience: issuer.audience,
  tenantClaim: "tenant",
  userClaim: "sub",
  ...extra,
});

/** The value of one labelled counter in the Prometheus text, 0 when absent. */
async function counter(service: RunningService, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const line = text.split("\n").find((entry) => entry.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

describe("OIDC bearer tokens", function () {
  this.timeout(60000);
  let issuer: TestIssuer;
  let service: RunningService;
  before(async () => {
    issuer = await startIssuer();
    await issuer.addKey("k1");
    // jwksUri left out, as the operator renders it when the spec names none: discovered from the issuer.
    // A zero cooldown lets the rotation test see refetches without waiting.
    service = await startService({ config: { auth: { mode: "oidc", oidc: oidcConfig(issuer, { jwksCooldownSeconds: 0 }) } } });
  });
  after(async () => {
    await service.stop();
    await issuer.close();
  });

  const asToken = (token: string) => apiClient(service.url, token);

  it("accepts a valid token and stores the conversation under its tenant and subject", async () => {
    const token = await issuer.sign({ tenant: "acme", sub: "alice" });
    const chat = await asToken(token)<ChatReply>("POST", "/api/v1/chat", { message: "hello" });
    assert.equal(chat.status, 200);
    const list = await asToken(token)<{ items: { id: string }[] }>("GET", "/api/v1/conversations");
    assert.deepEqual(list.body.items.map((item) => item.id), [chat.body.conversationId]);
    const otherUser = await asToken(await issuer.sign({ tenant: "acme", sub: "bob" }))<{ items: unknown[] }>("GET", "/api/v1/conversations");
    assert.deepEqual(otherUser.body.items, []);
  });

  it("accepts ES256, the other default algorithm", async () => {
    await issuer.addKey("ec1", "ES256");
    assert.equal((await asToken(await issuer.sign({}, { kid: "ec1" }))("GET", "/api/v1/conversations")).status, 200);
  });

  it("answers 401 with WWW-Authenticate and no token detail for every kind of bad token", async () => {
    const valid = await issuer.sign({});
    const [header, payload, signature] = valid.split(".") as [string, string, string];
    const escalated = base64url.encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(base64url.decode(payload))), tenant: "globex" }));
    const flipped = `${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`;
    await issuer.addKey("ghost", "RS256", false);
    await issuer.addKey("rs384", "RS384");
    const now = Math.floor(Date.now() / 1000);
    const cases: { name: string; token: string; reason: string }[] = [
      { name: "expired beyond the clock skew", token: await issuer.sign({}, { expiresIn: -120 }), reason: "expired" },
      { name: "not yet valid", token: await issuer.sign({}, { notBefore: 600 }), reason: "not_yet_valid" },
      { name: "for another audience", token: await issuer.sign({}, { audience: "someone-else" }), reason: "wrong_audience" },
      { name: "from another issuer", token: await issuer.sign({}, { issuer: "https://evil.example.com" }), reason: "wrong_issuer" },
      { name: "unsigned (alg none)", token: new UnsecuredJWT({ tenant: "acme", sub: "alice" }).setIssuer(issuer.issuer).setAudience(issuer.audience).setExpirationTime(now + 300).encode(), reason: "algorithm_not_allowed" },
      {
        name: "HS256 signed with the public key as the HMAC secret (algorithm confusion)",
        token: await new SignJWT({ tenant: "acme", sub: "alice" })
          .setProtectedHeader({ alg: "HS256", kid: "k1" })
          .setIssuer(issuer.issuer)
          .setAudience(issuer.audience)
          .setExpirationTime(now + 300)
          .sign(new TextEncoder().encode(await issuer.publicKeyPem("k1"))),
        reason: "algorithm_not_allowed",
      },
      { name: "with a tampered signature", token: `${header}.${payload}.${flipped}`, reason: "bad_signature" },
      { name: "with a tampered payload (another tenant)", token: `${header}.${escalated}.${signature}`, reason: "bad_signature" },
      { name: "signed by a key the issuer never published", token: await issuer.sign({}, { kid: "ghost" }), reason: "unknown_key_id" },
      { name: "signed with an algorithm outside the allow-list", token: await issuer.sign({}, { kid: "rs384" }), reason: "algorithm_not_allowed" },
      { name: "without the tenant claim", token: await issuer.sign({ tenant: undefined }), reason: "invalid_claims" },
      { name: "with a non-string subject", token: await issuer.sign({ sub: { id: 1 } as unknown as string }), reason: "invalid_claims" },
      { name: "that is not a JWT at all", token: "not-a-jwt", reason: "malformed_token" },
    ];
    for (const { name, token, reason } of cases) {
      const before = await counter(service, "assistant_auth_failures_total", `reason="${reason}"`);
      const reply = await asToken(token)<ErrorBody>("GET", "/api/v1/conversations");
      assert.equal(reply.status, 401, name);
      assert.equal(reply.headers.get("www-authenticate"), 'Bearer realm="assistant", error="invalid_token"', name);
      assert.deepEqual(reply.body, { error: { code: "invalid_token", message: "the API key or token is not valid" } }, name);
      assert.equal(await counter(service, "assistant_auth_failures_total", `reason="${reason}"`), before + 1, `${name}: counted as ${reason}`);
    }
    assert.ok(!service.logs.some((line) => line.includes(valid.slice(0, 40))), "a token reached the log");
  });

  it("tolerates clock skew within the configured seconds", async () => {
    assert.equal((await asToken(await issuer.sign({}, { expiresIn: -5 }))("GET", "/api/v1/conversations")).status, 200);
  });

  it("answers 401 without an error code when no bearer credential is sent", async () => {
    for (const headers of [{}, { authorization: "Basic YWxpY2U6c2VjcmV0" }] as Record<string, string>[]) {
      const reply = await apiClient(service.url)<ErrorBody>("GET", "/api/v1/conversations", undefined, headers);
      assert.equal(reply.status, 401);
      assert.equal(reply.headers.get("www-authenticate"), 'Bearer realm="assistant"');
      assert.equal(reply.body.error.code, "unauthenticated");
    }
  });

  it("keeps probes, metrics and the OpenAPI document open", async () => {
    for (const path of ["/healthz", "/readyz", "/metrics", "/openapi.json"]) {
      assert.equal((await fetch(`${service.url}${path}`)).status, 200, path);
    }
    for (const [method, path] of [["POST", "/api/v1/chat"], ["POST", "/v1/chat/completions"], ["GET", "/v1/models"], ["GET", "/api/v1/conversations/x"], ["DELETE", "/api/v1/conversations/x"]] as const) {
      assert.equal((await fetch(`${service.url}${path}`, { method })).status, 401, `${method} ${path}`);
    }
    const openapi = (await (await fetch(`${service.url}/openapi.json`)).json()) as { components?: { securitySchemes?: Record<string, unknown> } };
    assert.deepEqual(openapi.components?.securitySchemes?.["bearer"], { type: "http", scheme: "bearer", description: "An API key or an OIDC access token" });
  });

  it("follows key rotation: a new key works on its first token, a removed one stops once the key set is refetched", async () => {
    const oldToken = await issuer.sign({}, { kid: "k1" });
    assert.equal((await asToken(oldToken)("GET", "/api/v1/conversations")).status, 200);
    await issuer.addKey("k2");
    const fetchesBefore = issuer.jwksFetches;
    assert.equal((await asToken(await issuer.sign({}, { kid: "k2" }))("GET", "/api/v1/conversations")).status, 200);
    assert.equal(issuer.jwksFetches, fetchesBefore + 1, "the unknown kid made the service refetch the JWKS once");
    assert.equal((await asToken(await issuer.sign({}, { kid: "k2" }))("GET", "/api/v1/conversations")).status, 200);
    assert.equal(issuer.jwksFetches, fetchesBefore + 1, "a known kid is served from the cache");

    issuer.unpublish("k1");
    // Cached keys stay valid until the set is refetched (jwksCacheSeconds, or a token with an unknown kid).
    assert.equal((await asToken(oldToken)("GET", "/api/v1/conversations")).status, 200);
    assert.equal((await asToken(await issuer.sign({}, { kid: "ghost" }))("GET", "/api/v1/conversations")).status, 401);
    assert.equal(issuer.jwksFetches, fetchesBefore + 2);
    const revoked = await asToken(oldToken)<ErrorBody>("GET", "/api/v1/conversations");
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.error.code, "invalid_token");
  });
});

describe("API keys and OIDC together, with the default JWKS cooldown", function () {
  this.timeout(60000);
  let issuer: TestIssuer;
  let service: RunningService;
  const apiKey = "svc-key-0123456789abcdef";
  before(async () => {
    issuer = await startIssuer();
    await issuer.addKey("k1");
    service = await startService({
      config: {
        auth: {
          mode: "apiKeyAndOIDC",
          apiKeys: [{ name: "ci", key: apiKey, tenant: "acme", user: "ci-bot" }],
          oidc: oidcConfig(issuer, { jwksUri: issuer.jwksUri, jwksCooldownSeconds: 3600 }),
        },
      },
    });
  });
  after(async () => {
    await service.stop();
    await issuer.close();
  });

  it("accepts either an API key or a token, and they name their own users", async () => {
    const byKey = await apiClient(service.url, apiKey)<ChatReply>("POST", "/api/v1/chat", { message: "from the key" });
    assert.equal(byKey.status, 200);
    const token = await issuer.sign({ tenant: "acme", sub: "alice" });
    assert.equal((await apiClient(service.url, token)<{ items: unknown[] }>("GET", "/api/v1/conversations")).body.items.length, 0);
    assert.equal((await apiClient(service.url, apiKey)<{ items: unknown[] }>("GET", "/api/v1/conversations")).body.items.length, 1);
    assert.equal((await apiClient(service.url, "wrong-key-0123456789")("GET", "/api/v1/conversations")).status, 401);
  });

  it("does not refetch the key set for an unknown kid inside the cooldown", async () => {
    assert.equal((await apiClient(service.url, await issuer.sign({}))("GET", "/api/v1/conversations")).status, 200);
    const fetches = issuer.jwksFetches;
    await issuer.addKey("k2");
    for (let attempt = 0; attempt < 5; attempt += 1) {
      assert.equal((await apiClient(service.url, await issuer.sign({}, { kid: "k2" }))("GET", "/api/v1/conversations")).status, 401);
    }
    assert.equal(issuer.jwksFetches, fetches, "tokens with unknown kids made the service hammer the issuer");
  });

  it("answers 503, not 401, while the identity provider cannot be reached", async () => {
    const token = await issuer.sign({}, { kid: "k1" });
    await issuer.close();
    const down = await startService({
      config: { auth: { mode: "oidc", oidc: oidcConfig(issuer) } },
    });
    try {
      const reply = await apiClient(down.url, token)<ErrorBody>("GET", "/api/v1/conversations");
      assert.equal(reply.status, 503);
      assert.equal(reply.body.error.code, "auth_unavailable");
      assert.equal(await counter(down, "assistant_auth_failures_total", 'reason="jwks_unavailable"'), 1);
    } finally {
      await down.stop();
    }
  });
});
