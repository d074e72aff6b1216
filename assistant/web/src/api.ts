/** The assistant's HTTP API as the page uses it: same origin, the credential as a Bearer header. */
export interface Source {
  index: number;
  title: string;
  section: string;
  source: string;
  excerpt: string;
}

export interface ConversationSummary {
  id: string;
  title: string;
  updatedAt: string;
}

export interface Turn {
  role: "user" | "assistant";
  content: string;
  sources: Source[];
}

export interface StreamHandlers {
  start(conversationId: string, sources: Source[]): void;
  delta(text: string): void;
  done(reply: string, sources: Source[]): void;
}

/** A refused request, with the API's `{error: {code, message}}`. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string };
}

async function failure(response: Response): Promise<ApiFailure> {
  const body = (await response.json().catch(() => ({}))) as ErrorBody;
  return new ApiFailure(response.status, body.error?.code ?? "http_error", body.error?.message ?? response.statusText);
}

/** Splits an SSE body into its events, as they arrive. */
async function* events(body: ReadableStream<Uint8Array>): AsyncGenerator<{ name: string; data: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    const blocks = buffer.split("\n\n");
    buffer = blocks.pop() ?? "";
    for (const block of blocks) {
      const lines = block.split("\n");
      const name = lines.find((line) => line.startsWith("event: "))?.slice(7) ?? "message";
      const data = lines.filter((line) => line.startsWith("data: ")).map((line) => line.slice(6));
      if (data.length > 0) yield { name, data: data.join("\n") };
    }
  }
}

export class AssistantApi {
  constructor(private readonly credential: () => string | null) {}

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    const credential = this.credential();
    const headers = new Headers(init.headers);
    if (credential !== null) headers.set("authorization", `Bearer ${credential}`);
    const response = await fetch(path, { ...init, headers });
    if (!response.ok) throw await failure(response);
    return response;
  }

  async conversations(): Promise<ConversationSummary[]> {
    const page = (await (await this.request("/api/v1/conversations?limit=50")).json()) as { items: ConversationSummary[] };
    return page.items;
  }

  async conversation(id: string): Promise<Turn[]> {
    const conversation = (await (await this.request(`/api/v1/conversations/${encodeURIComponent(id)}`)).json()) as { turns: Turn[] };
    return conversation.turns;
  }

  /** Sends a message and reports the streamed answer; rejects with an ApiFailure the stream carried. */
  async chat(message: string, conversationId: string | null, handlers: StreamHandlers): Promise<void> {
    const response = await this.request("/api/v1/chat", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ message, stream: true, ...(conversationId === null ? {} : { conversationId }) }),
    });
    if (response.body === null) throw new ApiFailure(response.status, "empty_response", "the answer had no body");
    for await (const event of events(response.body)) {
      const data = JSON.parse(event.data) as Record<string, unknown>;
      if (event.name === "start") handlers.start(data["conversationId"] as string, data["sources"] as Source[]);
      else if (event.name === "delta") handlers.delta(data["text"] as string);
      else if (event.name === "done") handlers.done(data["reply"] as string, data["sources"] as Source[]);
      else if (event.name === "error") {
        const { code = "error", message: text = "" } = (data as ErrorBody).error ?? {};
        throw new ApiFailure(response.status, code, text);
      }
    }
  }
}
