import cors from "@fastify/cors";
import helmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";

/**
 * Security headers for browsers. The API answers JSON; the chat page planned for `/` will be served
 * from this origin with its own script and style files, which this policy allows, while inline
 * scripts, inline styles, plugins, framing and posting forms elsewhere stay blocked.
 * `upgrade-insecure-requests` is left out: in-cluster and port-forwarded access is plain HTTP, and
 * TLS ends at the Ingress.
 */
const contentSecurityPolicy = {
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
 * Cross-origin callers are exactly `origins` (none by default). Credentials travel in the
 * Authorization header, never in cookies, so credentialed CORS stays off.
 */
export async function secureForBrowsers(app: FastifyInstance, origins: string[]): Promise<void> {
  await app.register(helmet, { contentSecurityPolicy, xFrameOptions: { action: "deny" } });
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
