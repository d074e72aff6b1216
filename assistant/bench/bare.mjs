// The baseline: a bare Fastify JSON endpoint with no validation, storage or logging.
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.post("/echo", async () => ({ ok: true }));
await app.listen({ port: 0, host: "127.0.0.1" });
console.log(JSON.stringify({ msg: "listening", port: app.server.address().port }));
process.once("SIGTERM", () => void app.close().then(() => process.exit(0)));
