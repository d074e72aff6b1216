import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Deterministic, meaningful embeddings without a model: hashed character n-grams. Latin words give
 * their whole form and their character trigrams (so "connect" is near "connection"), runs of Han
 * characters give their characters and character bigrams (so 年假 is near 年休假); each feature
 * adds ±(1 + log tf) to one of `dimensions` buckets picked by FNV-1a, and the vector is normalised.
 * Texts sharing words or word pieces point the same way, in Chinese and English alike.
 */
export function ngramVector(text: string, dimensions: number): Float32Array {
  const counts = new Map<string, number>();
  const add = (feature: string): void => {
    counts.set(feature, (counts.get(feature) ?? 0) + 1);
  };
  const normalized = text.normalize("NFKC").toLowerCase();
  for (const [word] of normalized.matchAll(/[a-z0-9]+/g)) {
    add(`w:${word}`);
    const padded = `<${word}>`;
    for (let index = 0; index + 3 <= padded.length; index += 1) add(`t:${padded.slice(index, index + 3)}`);
  }
  for (const [run] of normalized.matchAll(/\p{Script=Han}+/gu)) {
    const characters = run.match(/\p{Script=Han}/gu) ?? [];
    characters.forEach((character, index) => {
      add(`c:${character}`);
      if (index + 1 < characters.length) add(`b:${character}${characters[index + 1] ?? ""}`);
    });
  }
  const vector = new Float32Array(dimensions);
  for (const [feature, count] of counts) {
    let hash = 0x811c9dc5;
    for (const unit of Buffer.from(feature, "utf8")) hash = Math.imul(hash ^ unit, 0x01000193) >>> 0;
    const bucket = hash % dimensions;
    vector[bucket] = (vector[bucket] ?? 0) + ((hash >>> 31) === 1 ? -1 : 1) * (1 + Math.log(count));
  }
  const norm = Math.hypot(...vector);
  return norm === 0 ? vector : vector.map((value) => value / norm);
}

export interface EmbeddingsRequest {
  authorization: string | undefined;
  model: string;
  inputs: string[];
  encodingFormat: string;
  /** The non-standard `input_type` some servers take ("query" or "passage"), when sent. */
  inputType: unknown;
}

export interface EmbeddingsServer {
  baseURL: string;
  requests: EmbeddingsRequest[];
  /** Statuses to answer the next requests with (an OpenAI error body), one per request, in order. */
  failures: number[];
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      resolve(Buffer.concat(parts).toString("utf8"));
    });
    request.on("error", reject);
  });
}

interface Answer {
  status: number;
  body: unknown;
}

const failure = (status: number, message: string): Answer => ({
  status,
  body: { error: { message, type: status === 401 ? "invalid_request_error" : "server_error", param: null, code: null } },
});

/**
 * A local server speaking the OpenAI embeddings wire format (`POST /v1/embeddings`: a string or an
 * array of strings, `encoding_format` float or base64, `dimensions`), answering with ngramVector.
 */
/**
 * `gate`: answers are held until that many requests wait together, so a client that never has that
 * many in flight at once is never answered (what proves a client's concurrency without timing it).
 */
export async function startEmbeddingsServer(options: { dimensions?: number; apiKey?: string; gate?: number } = {}): Promise<EmbeddingsServer> {
  const defaultDimensions = options.dimensions ?? 256;
  const requests: EmbeddingsRequest[] = [];
  const failures: number[] = [];
  const answer = (request: IncomingMessage, text: string): Answer => {
    if (request.method !== "POST" || request.url !== "/v1/embeddings") return failure(404, `no route ${request.method ?? ""} ${request.url ?? ""}`);
    if (options.apiKey !== undefined && request.headers.authorization !== `Bearer ${options.apiKey}`) return failure(401, "Incorrect API key provided");
    let body: { model?: unknown; input?: unknown; encoding_format?: unknown; dimensions?: unknown; input_type?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return failure(400, "We could not parse the JSON body of your request.");
    }
    const inputs = typeof body.input === "string" ? [body.input] : body.input;
    const encodingFormat = body.encoding_format ?? "float";
    const dimensions = body.dimensions ?? defaultDimensions;
    if (typeof body.model !== "string" || !Array.isArray(inputs) || inputs.length === 0 || !inputs.every((input): input is string => typeof input === "string" && input !== "")) {
      return failure(400, "'input' must be a non-empty string or array of non-empty strings, and 'model' a string");
    }
    if ((encodingFormat !== "float" && encodingFormat !== "base64") || typeof dimensions !== "number" || !Number.isInteger(dimensions) || dimensions < 1) {
      return failure(400, "invalid encoding_format or dimensions");
    }
    requests.push({ authorization: request.headers.authorization, model: body.model, inputs, encodingFormat, inputType: body.input_type });
    const status = failures.shift();
    if (status !== undefined) return failure(status, "The server is overloaded, try again later");
    const data = inputs.map((input, index) => {
      const vector = ngramVector(input, dimensions);
      return { object: "embedding", index, embedding: encodingFormat === "base64" ? Buffer.from(vector.buffer).toString("base64") : Array.from(vector) };
    });
    const tokens = inputs.reduce((total, input) => total + Math.ceil(input.length / 4), 0);
    return { status: 200, body: { object: "list", data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } } };
  };
  let held: (() => void)[] = [];
  const server: Server = createServer((request, response) => {
    void readBody(request).then((text) => {
      const { status, body } = answer(request, text);
      const send = (): void => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(body));
      };
      if (options.gate === undefined) {
        send();
        return;
      }
      held.push(send);
      if (held.length < options.gate) return;
      for (const release of held) release();
      held = [];
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    failures,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
