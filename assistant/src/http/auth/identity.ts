import { LOCAL_OWNER, type Owner } from "../../storage/types.js";

export type AuthMethod = "none" | "apiKey" | "oidc";

/** Who is calling: the owner their conversations are stored under, and how that was established. */
export interface Identity extends Owner {
  method: AuthMethod;
  /** The name of the API key used (never the key itself). */
  keyName?: string;
}

/** Every caller when auth is off. */
export const LOCAL_IDENTITY: Readonly<Identity> = { ...LOCAL_OWNER, method: "none" };

/**
 * Why a request was refused. The reason goes to metrics and the operator's log only; the client
 * learns no more than RFC 6750 allows (missing credentials, or an invalid token).
 */
export type FailureReason =
  | "missing_credentials"
  | "malformed_token"
  | "unknown_api_key"
  | "algorithm_not_allowed"
  | "unknown_key_id"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "wrong_issuer"
  | "wrong_audience"
  | "invalid_claims"
  | "jwks_unavailable";

export class AuthFailure extends Error {
  override readonly name = "AuthFailure";
  constructor(
    readonly reason: FailureReason,
    options?: ErrorOptions,
  ) {
    super(reason, options);
  }
}
