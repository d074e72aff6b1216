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
 * `masker` remembering its last `capacity` answers. Every request logs its URL and client address,
 * and nearly all of them repeat; masking runs every detector over the text each time.
 */
function remembering(masker: Masker, capacity: number): Masker {
  const answers = new Map<string, string>();
  return (text) => {
    let masked = answers.get(text);
    if (masked === undefined) {
      masked = masker(text);
      if (answers.size >= capacity) answers.delete(answers.keys().next().value as string);
      answers.set(text, masked);
    }
    return masked;
  };
}

/**
 * JSON logs on stdout. Bodies are never logged; the client address is personal data, so it is masked
 * like everything else, and credentials in headers are redacted. A user named by an e-mail address or
 * phone number (an OIDC claim may be either) is masked too.
 */
export function createLogger(level: string, masker: Masker): Logger {
  const maskRequestField = remembering(masker, 1024);
  return pino({
    level,
    redact: { paths: ["req.headers.authorization", "req.headers.cookie", "*.apiKey"], censor: "[REDACTED]" },
    serializers: {
      actor: (actor: LoggedActor | null) => (actor === null ? null : { ...actor, tenant: masker(actor.tenant), user: masker(actor.user) }),
      req: (request: LoggedRequest) => ({
        method: request.method,
        url: maskRequestField(request.url),
        remoteAddress: request.ip === undefined ? undefined : maskRequestField(request.ip),
      }),
    },
  });
}
