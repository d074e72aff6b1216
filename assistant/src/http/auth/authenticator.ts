import type { FastifyBaseLogger } from "fastify";
import type { AuthConfig } from "../../config/schema.js";
import { loadApiKeys, type ApiKeys } from "./api-keys.js";
import { AuthFailure, LOCAL_IDENTITY, type Identity } from "./identity.js";
import { oidcVerifier, type OidcVerifier } from "./oidc.js";

export interface Authenticator {
  readonly required: boolean;
  /** The caller an Authorization header names; rejects with AuthFailure. */
  authenticate(authorization: string | undefined): Promise<Identity>;
  close(): void;
}

const MAX_TOKEN_CHARS = 8192;
/** A JWS in compact serialization: three base64url parts. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * API keys and JWTs both travel as `Authorization: Bearer …` (what OpenAI SDKs send). Another scheme,
 * or none, is a request without credentials; a Bearer header that does not hold one token is invalid.
 * Only spaces separate (RFC 6750): other whitespace is part of the token, so it cannot match a key.
 */
function bearerToken(authorization: string | undefined): string {
  const [scheme, ...rest] = (authorization ?? "").split(/ +/);
  if (scheme?.toLowerCase() !== "bearer") throw new AuthFailure("missing_credentials");
  const token = rest.length === 1 ? rest[0] : undefined;
  if (token === undefined || token.length > MAX_TOKEN_CHARS) throw new AuthFailure("malformed_token");
  return token;
}

async function identify(authorization: string | undefined, keys: ApiKeys | undefined, oidc: OidcVerifier | undefined): Promise<Identity> {
  const token = bearerToken(authorization);
  const key = keys?.match(token);
  if (key !== undefined) return { tenant: key.tenant, user: key.user, method: "apiKey", keyName: key.name };
  // With both methods on, a token that is not a known key is tried as a JWT only when it looks like one.
  if (oidc !== undefined && (keys === undefined || JWT_SHAPE.test(token))) return oidc.verify(token);
  throw new AuthFailure("unknown_api_key");
}

export async function createAuthenticator(config: AuthConfig, logger: FastifyBaseLogger): Promise<Authenticator> {
  const { mode } = config;
  if (mode === "none") {
    return { required: false, authenticate: () => Promise.resolve(LOCAL_IDENTITY), close: () => undefined };
  }
  const keys = mode === "apiKey" || mode === "apiKeyAndOIDC" ? await loadApiKeys(config, logger) : undefined;
  const oidc = (mode === "oidc" || mode === "apiKeyAndOIDC") && config.oidc !== undefined ? oidcVerifier(config.oidc) : undefined;
  return {
    required: true,
    authenticate: (authorization) => identify(authorization, keys, oidc),
    close: () => keys?.close(),
  };
}
