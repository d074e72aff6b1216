import { pino, type Logger } from "pino";

/** A real pino logger whose JSON lines the test can read back. */
export function recordingLogger(): { logger: Logger; messages: () => string[] } {
  const lines: { msg?: string }[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg?: string }) });
  return { logger, messages: () => lines.map((line) => line.msg ?? "") };
}
