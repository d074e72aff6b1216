import { pino, type Logger } from "pino";
import type { Masker } from "../masking/mask.js";

interface LoggedActor {
  tenant: string;
  user: string;
}

interface LoggedRequest {
  method: string;
  url: string;
  ip?: string;
}

/**
 * JSON logs on stdout. Bodies are never logged; the client address is personal data, so it is masked
 * like everything else, and credentials in headers are redacted. A user named by an e-mail address or
 * phone number (an OIDC claim may be either) is masked too.
 */
export function createLogger(level: string, masker: Masker): Logger {
  return pino({
    level,
    redact: { paths: ["req.headers.authorization", "req.headers.cookie", "*.apiKey"], censor: "[REDACTED]" },
    serializers: {
      actor: (actor: LoggedActor | null) => (actor === null ? null : { ...actor, tenant: masker(actor.tenant), user: masker(actor.user) }),
      req: (request: LoggedRequest) => ({
        method: request.method,
        url: masker(request.url),
        remoteAddress: request.ip === undefined ? undefined : masker(request.ip),
      }),
    },
  });
}
