import assert from "node:assert/strict";
import { SseDecoder, type SseEvent } from "../../src/llm/sse-decoder.js";

const STREAM =
  'data: {"choices":[{"delta":{"content":"你好"}}]}\n\n' +
  ": keep-alive comment\n\n" +
  "event: error\r\ndata: first line\r\ndata:second line\r\nid: 7\r\nretry: 10\r\n\r\n" +
  "data\n\n" +
  "data: [DONE]\n\n";

const EXPECTED: SseEvent[] = [
  { event: "", data: '{"choices":[{"delta":{"content":"你好"}}]}' },
  { event: "error", data: "first line\nsecond line" },
  { event: "", data: "" },
  { event: "", data: "[DONE]" },
];

describe("SSE decoder", () => {
  it("reads events with their names and multi-line data, skipping comments and other fields, LF or CRLF", () => {
    assert.deepEqual(new SseDecoder().push(STREAM), EXPECTED);
  });

  it("gives the same events however the stream is cut into pieces", () => {
    for (let first = 0; first <= STREAM.length; first += 1) {
      for (const second of [first, Math.min(STREAM.length, first + 1), Math.min(STREAM.length, first + 9)]) {
        const decoder = new SseDecoder();
        const events = [STREAM.slice(0, first), STREAM.slice(first, second), STREAM.slice(second)].flatMap((piece) => decoder.push(piece));
        assert.deepEqual(events, EXPECTED, `cut at ${first} and ${second}`);
      }
    }
  });

  it("holds an event back until the blank line that ends it", () => {
    const decoder = new SseDecoder();
    assert.deepEqual(decoder.push("data: partial\n"), []);
    assert.deepEqual(decoder.push("\n"), [{ event: "", data: "partial" }]);
  });
});
