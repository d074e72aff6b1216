import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";

interface SigningKey {
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

export interface TokenOptions {
  kid?: string;
  audience?: string;
  issuer?: string;
  /** Seconds from now; negative for a token that has expired. */
  expiresIn?: number;
  /** Seconds from now before which the token is not valid. */
  notBefore?: number;
}

/**
 * A local OpenID Connect issuer: `/.well-known/openid-configuration` and a JWKS endpoint serving the
 * public halves of keys it generates with jose, which tests add, remove and sign with.
 */
export interface TestIssuer {
  issuer: string;
  jwksUri: string;
  audience: string;
  /** How often the JWKS has been fetched. */
  readonly jwksFetches: number;
  /** Generates a key; `publish: false` keeps it out of the JWKS (a key nobody announced). */
  addKey(kid: string, alg?: "RS256" | "ES256" | "RS384", publish?: boolean): Promise<void>;
  /** Stops publishing a key; tokens can still be signed with it. */
  unpublish(kid: string): void;
  sign(claims: JWTPayload, options?: TokenOptions): Promise<string>;
  /** The SPKI PEM of a key, what an attacker would use as an HMAC secret. */
  publicKeyPem(kid: string): Promise<string>;
  close(): Promise<void>;
}

export async function startIssuer(): Promise<TestIssuer> {
  const keys = new Map<string, SigningKey>();
  const published = new Set<string>();
  let jwksFetches = 0;
  const server: Server = createServer((request, response) => {
    const json = (body: unknown): void => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (request.url === "/.well-known/openid-configuration") {
      json({ issuer: base, jwks_uri: `${base}/jwks`, id_token_signing_alg_values_supported: ["RS256", "ES256"] });
    } else if (request.url === "/jwks") {
      jwksFetches += 1;
      json({ keys: [...published].map((kid) => keys.get(kid)?.jwk) });
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keyOf = (kid: string): SigningKey => {
    const key = keys.get(kid);
    if (key === undefined) throw new Error(`no key ${kid}`);
    return key;
  };

  return {
    issuer: base,
    jwksUri: `${base}/jwks`,
    audience: "assistant-api",
    get jwksFetches() {
      return jwksFetches;
    },
    async addKey(kid, alg = "RS256", publish = true) {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      keys.set(kid, { alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } });
      if (publish) published.add(kid);
    },
    unpublish(kid) {
      published.delete(kid);
    },
    async sign(claims, options = {}) {
      const kid = options.kid ?? [...published][0] ?? "";
      const key = keyOf(kid);
      const now = Math.floor(Date.now() / 1000);
      const jwt = new SignJWT({ tenant: "acme", sub: "alice", ...claims })
        .setProtectedHeader({ alg: key.alg, kid, typ: "JWT" })
        .setIssuer(options.issuer ?? base)
        .setAudience(options.audience ?? "assistant-api")
        .setIssuedAt(now)
        .setExpirationTime(now + (options.expiresIn ?? 300));
      if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore);
      return jwt.sign(key.privateKey);
    },
    publicKeyPem: (kid) => exportSPKI(keyOf(kid).publicKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
