import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A small "ERP" serving skills over real HTTP, as the example in docs/api.md: look up an order, create a
 * return (side-effecting), and endpoints that misbehave on purpose (slow, failing, oversized,
 * redirecting elsewhere). Every request is recorded so tests can tell whether a call got through.
 */
export interface ErpRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface ErpServer {
  /** `http://host:port` */
  url: string;
  hostPort: string;
  requests: ErpRequest[];
  close(): Promise<void>;
}

export const ORDERS: Record<string, unknown> = {
  "A-1001": { orderId: "A-1001", status: "shipped", item: "Laptop stand", customer: { name: "Li Lei", phone: "13812345678" }, total: 259 },
  "A-1002": { orderId: "A-1002", status: "processing", item: "USB-C hub", customer: { name: "Han Meimei", phone: "13987654321" }, total: 129 },
};

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

/** Writes until the client hangs up, honouring backpressure: only a reader that stops can end it. */
function endless(response: ServerResponse): void {
  response.writeHead(200, { "content-type": "application/json" });
  const piece = Buffer.alloc(16384, "x");
  const pump = (): void => {
    let room = true;
    while (room && !response.destroyed) room = response.write(piece);
    if (!response.destroyed) response.once("drain", pump);
  };
  pump();
}

export async function startErp(host = "127.0.0.1", redirectTarget?: string): Promise<ErpServer> {
  const requests: ErpRequest[] = [];
  const held = new Set<ServerResponse>();
  const server: Server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const url = new URL(request.url ?? "/", "http://erp");
      const body = Buffer.concat(parts).toString("utf8");
      requests.push({ method: request.method ?? "", path: url.pathname + url.search, headers: request.headers, body });
      switch (url.pathname) {
        case "/orders": {
          const order = ORDERS[url.searchParams.get("orderId") ?? ""];
          if (order === undefined) json(response, 404, { error: "no such order" });
          else json(response, 200, order);
          return;
        }
        case "/returns": {
          const { orderId } = JSON.parse(body) as { orderId: string };
          json(response, 201, { returnId: `R-${orderId}`, orderId, status: "created" });
          return;
        }
        case "/echo":
          json(response, 200, { method: request.method, query: Object.fromEntries(url.searchParams), body: body === "" ? null : (JSON.parse(body) as unknown) });
          return;
        case "/moved":
          response.writeHead(307, { location: `/orders${url.search}` }).end();
          return;
        case "/elsewhere":
          response.writeHead(302, { location: `${redirectTarget ?? ""}/orders${url.search}` }).end();
          return;
        case "/boom":
          json(response, 500, { error: "database unavailable" });
          return;
        case "/huge":
          endless(response);
          return;
        case "/slow":
          // Answers never: only the caller's timeout ends this request.
          held.add(response);
          return;
        default:
          json(response, 404, { error: "no such endpoint" });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    hostPort: `${host}:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of held) response.destroy();
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

export const ERP_AUTHORIZATION = "Bearer erp-secret-7Hq2";

const orderId = { type: "string", pattern: "^[A-Z]-\\d{4}$" };

/** The skills configuration for an ERP server, as the operator would render it. */
export function erpSkillsConfig(erp: ErpServer): { skills: Record<string, unknown>[]; skillHosts: string[] } {
  const lookup = (name: string, path: string, timeoutMs = 5000) => ({
    name,
    description: "Look up an order in the ERP by its id: status, item, customer and total.",
    parameters: { type: "object", required: ["orderId"], additionalProperties: false, properties: { orderId } },
    endpoint: { url: `${erp.url}${path}`, method: "GET" },
    timeoutMs,
    confirm: false,
  });
  return {
    skills: [
      lookup("lookup-order", "/orders"),
      {
        name: "create-return",
        description: "Create a return for an order.",
        parameters: { type: "object", required: ["orderId"], additionalProperties: false, properties: { orderId, reason: { type: "string", maxLength: 200 } } },
        endpoint: { url: `${erp.url}/returns`, method: "POST" },
        timeoutMs: 5000,
        confirm: true,
        authorizationEnv: "SKILL_CREATE_RETURN_AUTHORIZATION",
      },
      { name: "echo", description: "Echoes its arguments.", endpoint: { url: `${erp.url}/echo`, method: "POST" }, timeoutMs: 5000, confirm: false },
      lookup("slow-order", "/slow", 300),
      lookup("broken-order", "/boom"),
      lookup("huge-order", "/huge"),
      lookup("moved-order", "/moved"),
      lookup("elsewhere-order", "/elsewhere"),
    ],
    skillHosts: [erp.hostPort],
  };
}
