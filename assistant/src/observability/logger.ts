import { pino, type Logger } from "pino";
import type { Masker } from "../masking/mask.js";

interface LoggedRequest {
  method: string;
  url: string;
  ip?: string;
}

/**
 * JSON logs on stdout. Bodies are never logged; the client address is personal data, so it is masked
 * like everything else, and credentials in headers are redacted.
 */
export function createLogger(level: string, masker: Masker): Logger {
  return pino({
    level,
    redact: { paths: ["req.headers.authorization", "req.headers.cookie", "*.apiKey"], censor: "[REDACTED]" },
    serializers: {
      req: (request: LoggedRequest) => ({
        method: request.method,
        url: masker(request.url),
        remoteAddress: request.ip === undefined ? undefined : masker(request.ip),
      }),
    },
  });
}
