/** One Server-Sent Event: its `event:` name ("" when none was given) and its `data:` lines joined by "\n". */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Splits an SSE byte stream, already decoded to text, into events as it arrives in pieces of any size.
 * Lines end in "\n" or "\r\n", as every OpenAI-compatible server writes them; comment lines (the
 * heartbeats some servers send) and fields other than `event` and `data` are skipped, and an event
 * without data is no event, as the SSE specification says.
 */
export class SseDecoder {
  private pending = "";
  private event = "";
  private data: string[] = [];

  /** The events that `text` completes; the rest waits for the next piece. */
  push(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    const buffer = this.pending + text;
    let start = 0;
    for (let end = buffer.indexOf("\n"); end !== -1; end = buffer.indexOf("\n", start)) {
      const line = buffer.charCodeAt(end - 1) === 13 && end > start ? buffer.slice(start, end - 1) : buffer.slice(start, end);
      start = end + 1;
      if (line === "") {
        if (this.data.length > 0) events.push({ event: this.event, data: this.data.join("\n") });
        this.event = "";
        this.data = [];
        continue;
      }
      const colon = line.indexOf(":");
      // A line without a colon is a field with an empty value; one starting with a colon is a comment.
      if (colon === 0) continue;
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? "" : line.slice(line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1);
      if (field === "data") this.data.push(value);
      else if (field === "event") this.event = value;
    }
    this.pending = buffer.slice(start);
    return events;
  }
}
