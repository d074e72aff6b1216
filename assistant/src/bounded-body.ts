import type { IncomingMessage } from "node:http";

/**
 * A response's body, refused with `tooLarge()` as soon as it is known to be over `maxBytes`: from
 * its Content-Length, or while it arrives. The response is destroyed then, so nothing more is read.
 */
export async function readBounded(response: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  if (Number(response.headers["content-length"] ?? 0) > maxBytes) {
    response.destroy();
    throw tooLarge();
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of response as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > maxBytes) {
      response.destroy();
      throw tooLarge();
    }
    parts.push(part);
  }
  return Buffer.concat(parts);
}
