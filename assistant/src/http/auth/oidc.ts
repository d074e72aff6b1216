import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { OidcConfig } from "../../config/schema.js";
import { AuthFailure, type FailureReason, type Identity } from "./identity.js";

const FETCH_TIMEOUT_MS = 5000;
const MAX_CLAIM_CHARS = 256;

/** The key set cannot be had (network, HTTP status, not a JWKS): the service's problem, not the caller's. */
class KeySetUnavailable extends Error {
  override readonly name = "KeySetUnavailable";
}

/** OpenID Connect Discovery: the issuer names its JWKS, and must name itself exactly as configured. */
async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  const response = await fetch(url, { redirect: "error", signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`OIDC discovery: ${url} answered ${response.status}`);
  const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (document.issuer !== issuer) throw new Error(`OIDC discovery: ${url} names another issuer`);
  if (typeof document.jwks_uri !== "string") throw new Error(`OIDC discovery: ${url} has no jwks_uri`);
  return document.jwks_uri;
}

/**
 * jose's remote key set caches the JWKS for `jwksCacheSeconds`, and refetches it early when a token
 * names a key id it does not hold, at most once per `jwksCooldownSeconds`: a rotated-in key works on
 * its first token, a removed key keeps working until the next refetch, and tokens with made-up key
 * ids cannot make the service hammer the identity provider. Errors other than "no such key" mean the
 * set itself could not be fetched.
 */
function remoteKeySet(jwksUri: string, config: OidcConfig): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(jwksUri), {
    cacheMaxAge: config.jwksCacheSeconds * 1000,
    cooldownDuration: config.jwksCooldownSeconds * 1000,
    timeoutDuration: FETCH_TIMEOUT_MS,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new KeySetUnavailable(`JWKS ${jwksUri}: ${(error as Error).message}`, { cause: error });
    }
  };
}

function reasonOf(error: unknown): FailureReason {
  if (error instanceof KeySetUnavailable) return "jwks_unavailable";
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "iss") return "wrong_issuer";
    if (error.claim === "aud") return "wrong_audience";
    if (error.claim === "nbf") return "not_yet_valid";
    return "invalid_claims";
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return "algorithm_not_allowed";
  // Several keys match only a token without a key id; neither case names one key.
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return "unknown_key_id";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad_signature";
  return "malformed_token";
}

function claim(payload: JWTPayload, name: string): string {
  const value = payload[name];
  const text = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== "string" || text === "" || text.length > MAX_CLAIM_CHARS) throw new AuthFailure("invalid_claims");
  return text;
}

export interface OidcVerifier {
  /** The caller a bearer JWT names; rejects with AuthFailure. */
  verify(token: string): Promise<Identity>;
}

export function oidcVerifier(config: OidcConfig): OidcVerifier {
  let keySet: Promise<JWTVerifyGetKey> | undefined;
  // Discovered on the first token, not at start, so an identity provider that is down only delays auth.
  const keys = (): Promise<JWTVerifyGetKey> => {
    if (keySet === undefined) {
      const pending = (config.jwksUri === undefined ? discoverJwksUri(config.issuer) : Promise.resolve(config.jwksUri)).then((uri) =>
        remoteKeySet(uri, config),
      );
      keySet = pending;
      // A failed discovery is retried by the next request.
      void pending.catch(() => {
        if (keySet === pending) keySet = undefined;
      });
    }
    return keySet;
  };

  return {
    async verify(token) {
      let getKey: JWTVerifyGetKey;
      try {
        getKey = await keys();
      } catch (error) {
        throw new AuthFailure("jwks_unavailable", { cause: error });
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: config.algorithms,
          clockTolerance: config.clockSkewSeconds,
          requiredClaims: ["exp"],
        }));
      } catch (error) {
        throw new AuthFailure(reasonOf(error), { cause: error });
      }
      return { tenant: claim(payload, config.tenantClaim), user: claim(payload, config.userClaim), method: "oidc" };
    },
  };
}
