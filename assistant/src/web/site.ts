import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { FastifyPluginCallback } from "fastify";

/**
 * The chat page: `web/static` (HTML, CSS) and the page's scripts compiled from `web/src` into
 * `dist/web`. The few files are read once at start and served from memory under fixed routes, so
 * no request path ever reaches the file system. Browsers revalidate them by ETag (`no-cache`), so a
 * new image's page is picked up on the next load.
 */
const STATIC_DIR = fileURLToPath(new URL("../../../web/static/", import.meta.url));
const SCRIPTS_DIR = fileURLToPath(new URL("../../web/", import.meta.url));

export interface Asset {
  route: string;
  type: string;
  body: Buffer;
  etag: string;
}

function asset(route: string, type: string, path: string): Asset {
  const body = readFileSync(path);
  return { route, type, body, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"` };
}

export function loadSite(): Asset[] {
  const scripts = readdirSync(SCRIPTS_DIR).filter((name) => name.endsWith(".js"));
  if (!scripts.includes("main.js")) throw new Error(`the chat page's scripts are missing from ${SCRIPTS_DIR}: build the assistant`);
  return [
    asset("/", "text/html; charset=utf-8", `${STATIC_DIR}index.html`),
    asset("/assets/style.css", "text/css; charset=utf-8", `${STATIC_DIR}style.css`),
    ...scripts.map((name) => asset(`/assets/${name}`, "text/javascript; charset=utf-8", `${SCRIPTS_DIR}${name}`)),
  ];
}

/** Public routes: the page holds no data; what it shows comes from the authenticated API. */
export const siteRoutes: FastifyPluginCallback<{ assets: readonly Asset[] }> = (app, { assets }, done) => {
  for (const { route, type, body, etag } of assets) {
    app.get(route, { schema: { hide: true } }, (request, reply) => {
      void reply.header("etag", etag).header("cache-control", "no-cache");
      if (request.headers["if-none-match"] === etag) return reply.status(304).send();
      return reply.type(type).send(body);
    });
  }
  done();
};
