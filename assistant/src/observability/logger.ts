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
  /** Set once the API's authentication hook has accepted the caller. */
  identity?: unknown;
}

const UNAUTHENTICATED_PATH_CHARS = 256;

/**
 * The URL as its characters, so masking sees what was sent: percent-encoded, a phone number right
 * after `%2C` looked like part of a word, and went unmasked. A broken escape stays as it is.
 */
function decoded(url: string): string {
  return url.replace(/(?:%[0-9A-Fa-f]{2})+/g, (escapes) => {
    try {
      return decodeURIComponent(escapes);
    } catch {
      return escapes;
    }
  });
}

/**
 * What the log keeps of a request's URL, decoded. Before authentication a request is anyone's: only
 * its path is kept, cut short, so a client without credentials can make the log mask (and hold) little.
 */
function loggedUrl({ url, identity }: LoggedRequest): string {
  if (identity !== undefined && identity !== null) return decoded(url);
  const query = url.indexOf("?");
  const path = decoded(query === -1 ? url : url.slice(0, query));
  return path.length > UNAUTHENTICATED_PATH_CHARS ? `${path.slice(0, UNAUTHENTICATED_PATH_CHARS)}…` : path;
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
        url: maskRequestField(loggedUrl(request)),
        remoteAddress: request.ip === undefined ? undefined : maskRequestField(request.ip),
      }),
    },
  });
}
