import assert from "node:assert/strict";
import { ParseError, parseWatchLine } from "../../../src/runtime/list-watch.js";

describe("watch line parsing", function () {
  it("reads a watch event", function () {
    const event = parseWatchLine('{"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"42"}}}');
    assert.equal(event.type, "BOOKMARK");
  });

  for (const [what, line] of [
    ["truncated JSON", '{"type":"ADDED","object":{"metadata":'],
    ["an unknown event type", '{"type":"SOMETHING","object":{}}'],
    ["an event without object", '{"type":"ADDED"}'],
    ["a JSON array", "[1,2]"],
  ] as const) {
    it(`rejects ${what} with a ParseError, never silently`, function () {
      assert.throws(() => parseWatchLine(line), ParseError);
    });
  }
});
