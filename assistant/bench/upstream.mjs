// The model behind the gateway benchmark: an OpenAI-compatible server that answers every chat
// completion after a set delay, as one JSON body or as SSE chunks (role, five content pieces, finish,
// usage, [DONE]), the way vLLM and OpenAI do. It does as little work as it can, so that a run measures
// the gateway and not the mock.
//
// POST /control {"delayMs": N, "jitterMs": J, "hold": bool, "tokens": T, "tokenIntervalMs": I}
// changes how it answers: each answer waits N ms, or with J a time drawn evenly from N − J to N + J,
// as a real model's time varies with the answer's length. Holding, a stream sends its first piece
// after the delay and then stays open until the client goes away: the open-streams test. With T, the
// answer is T tokens and a stream sends them as a model does, one event each, I ms apart.
import { Buffer } from "node:buffer";
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";
import { setImmediate } from "node:timers";

const PIECES = ["The", " answer", " is", " in", " the handbook."];
const MODEL = "bench-model";

const usage = (completionTokens) => ({ prompt_tokens: 120, completion_tokens: completionTokens, total_tokens: 120 + completionTokens });
const chunk = (delta, finish) =>
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1, model: MODEL, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
/** The end of a stream of `completionTokens` tokens: the finish, the usage, [DONE]. */
const tail = (completionTokens) =>
  chunk({}, "stop") +
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1, model: MODEL, choices: [], usage: usage(completionTokens) })}\n\n` +
  "data: [DONE]\n\n";
/** The whole answer, as one chat.completion body. */
const completion = (content, completionTokens) =>
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1,
    model: MODEL,
    choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: "stop" }],
    usage: usage(completionTokens),
  });
const FIRST = chunk({ role: "assistant", content: "" }, null) + chunk({ content: PIECES[0] }, null);
const REST =
  PIECES.slice(1)
    .map((piece) => chunk({ content: piece }, null))
    .join("") + tail(PIECES.length);
const COMPLETION = completion(PIECES.join(""), PIECES.length);
const MODELS = JSON.stringify({ object: "list", data: [{ id: MODEL, object: "model", created: 1, owned_by: "bench" }] });

let delayMs = Number(process.env.UPSTREAM_DELAY_MS ?? 0);
let jitterMs = 0;
let hold = false;
let tokens = 0;
let tokenIntervalMs = 0;

const TOKEN = chunk({ content: " token" }, null);

/**
 * The tokens of a stream one write each, `tokenIntervalMs` apart from `started` (a turn of the event
 * loop apart at 0). Each is due at its own time: timers chained one after the other would each run a
 * little late, and the stream would end later than the JSON answer it is compared with.
 */
function trickle(response, sent, started) {
  if (response.destroyed) return;
  if (sent === tokens) {
    response.end(tail(tokens));
    return;
  }
  response.write(TOKEN);
  // A token already due (the loop ran late) goes at once.
  if (tokenIntervalMs > 0) setTimeout(trickle, Math.max(0, started + (sent + 1) * tokenIntervalMs - performance.now()), response, sent + 1, started);
  else setImmediate(trickle, response, sent + 1, started);
}

function answer(response, stream) {
  if (!stream) {
    const body = tokens > 0 ? completion(" token".repeat(tokens), tokens) : COMPLETION;
    const send = () => {
      response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      response.end(body);
    };
    // Without a stream the answer comes when its last token would have.
    if (tokens > 0) setTimeout(send, tokens * tokenIntervalMs);
    else send();
    return;
  }
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  if (hold) response.write(FIRST);
  else if (tokens > 0) {
    response.write(chunk({ role: "assistant", content: "" }, null));
    trickle(response, 0, performance.now());
  } else response.end(FIRST + REST);
}

const server = createServer((request, response) => {
  const parts = [];
  request.on("data", (part) => parts.push(part));
  request.on("end", () => {
    const body = Buffer.concat(parts).toString("utf8");
    if (request.url === "/control") {
      ({ delayMs = delayMs, jitterMs = jitterMs, hold = hold, tokens = tokens, tokenIntervalMs = tokenIntervalMs } = JSON.parse(body));
      response.end();
    } else if (request.url === "/v1/models") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(MODELS);
    } else if (request.method === "POST" && request.url === "/v1/chat/completions") {
      const stream = JSON.parse(body).stream === true;
      const wait = delayMs + (Math.random() * 2 - 1) * jitterMs;
      if (wait <= 0) answer(response, stream);
      else setTimeout(answer, wait, response, stream);
    } else {
      response.writeHead(404).end();
    }
  });
});
// Longer than any pause between a gateway's requests, so the gateway's pooled connections stay open.
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ msg: "listening", port: server.address().port }));
});
process.once("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
