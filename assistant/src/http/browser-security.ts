import type { IncomingMessage, ServerResponse } from "node:http";
import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";
import helmet, { type HelmetOptions } from "helmet";

/**
 * Security headers for browsers. The API answers JSON; the chat page planned for `/` will be served
 * from this origin with its own script and style files, which this policy allows, while inline
 * scripts, inline styles, plugins, framing and posting forms elsewhere stay blocked.
 * `upgrade-insecure-requests` is left out: in-cluster and port-forwarded access is plain HTTP, and
 * TLS ends at the Ingress.
 */
const contentSecurityPolicy: HelmetOptions["contentSecurityPolicy"] = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
};

/**
 * The headers helmet sets for `options`, worked out once. They depend on nothing in the request, and
 * the Fastify plugin would build helmet's middleware anew for every request, at about a tenth of a
 * cheap request's cost.
 */
function helmetHeaders(options: HelmetOptions): Map<string, string> {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: string) {
      headers.set(name.toLowerCase(), value);
    },
    removeHeader(name: string) {
      headers.delete(name.toLowerCase());
    },
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error !== undefined) throw new Error("helmet refused the security header options", { cause: error });
  });
  return headers;
}

/**
 * Cross-origin callers are exactly `origins` (none by default). Credentials travel in the
 * Authorization header, never in cookies, so credentialed CORS stays off.
 */
export async function secureForBrowsers(app: FastifyInstance, origins: string[]): Promise<void> {
  const headers = helmetHeaders({ contentSecurityPolicy, xFrameOptions: { action: "deny" } });
  // On the raw response, so that streams, which write their own head, carry them as well.
  app.addHook("onRequest", (_request, reply, done) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    done();
  });
  await app.register(cors, {
    origin: origins.length === 0 ? false : origins,
    methods: ["GET", "POST", "DELETE"],
    allowedHeaders: ["authorization", "content-type", "accept", "x-request-id"],
    exposedHeaders: ["x-request-id", "retry-after"],
    maxAge: 600,
    // A bare OPTIONS gets the usual answer instead of a plain-text 400 outside the error shape.
    strictPreflight: false,
  });
}
