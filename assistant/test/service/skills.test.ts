import assert from "node:assert/strict";
import { apiClient, type ErrorBody } from "../support/client.js";
import { ERP_AUTHORIZATION, erpSkillsConfig, startErp, type ErpServer } from "../support/erp-skill.js";
import { sseEvents, startService, type RunningService } from "../support/service.js";

interface InvokeReply {
  skill: string;
  status: number;
  result: unknown;
}

interface ChatReply {
  reply: string;
  conversationId: string;
  sources: unknown[];
}

const skillLines = (service: RunningService): Record<string, unknown>[] =>
  service.logs.filter((line) => line.includes('"msg":"skill call"')).map((line) => JSON.parse(line) as Record<string, unknown>);

describe("skills against a real HTTP skill server (an ERP)", function () {
  this.timeout(60000);
  let erp: ErpServer;
  let elsewhere: ErpServer;
  let service: RunningService;
  let call: ReturnType<typeof apiClient>;
  before(async () => {
    // A second host on another loopback address: the target of the cross-host redirect.
    elsewhere = await startErp("127.0.0.2");
    erp = await startErp("127.0.0.1", elsewhere.url);
    service = await startService({
      config: { ...erpSkillsConfig(erp), skillOptions: { allowPrivateNetworks: true, maxResponseBytes: 4096 } },
      env: { SKILL_CREATE_RETURN_AUTHORIZATION: ERP_AUTHORIZATION },
    });
    call = apiClient(service.url);
  });
  after(async () => {
    await service.stop();
    await erp.close();
    await elsewhere.close();
  });
  beforeEach(() => {
    erp.requests.length = 0;
  });

  const invoke = (name: string, body: unknown) => call<InvokeReply & ErrorBody>("POST", `/api/v1/skills/${name}/invoke`, body);

  it("lists the skills with their parameters, never their URLs", async () => {
    const { status, body } = await call<{ items: { name: string; confirm: boolean; parameters: unknown }[] }>("GET", "/api/v1/skills");
    assert.equal(status, 200);
    assert.deepEqual(
      body.items.map((skill) => [skill.name, skill.confirm]),
      erpSkillsConfig(erp).skills.map((skill) => [skill["name"], skill["confirm"]]),
    );
    assert.deepEqual(body.items[0]?.parameters, erpSkillsConfig(erp).skills[0]?.["parameters"]);
    assert.ok(!JSON.stringify(body).includes(erp.url));
  });

  it("invokes a skill: GET arguments as the query, the caller named in headers, the JSON answer returned", async () => {
    const { status, body } = await invoke("lookup-order", { arguments: { orderId: "A-1001" } });
    assert.equal(status, 200);
    assert.equal(body.skill, "lookup-order");
    assert.equal(body.status, 200);
    assert.deepEqual((body.result as { status: string }).status, "shipped");
    const [request] = erp.requests;
    assert.equal(request?.method, "GET");
    assert.equal(request?.path, "/orders?orderId=A-1001");
    assert.equal(request?.headers["x-assistant-tenant"], "default");
    assert.equal(request?.headers["x-assistant-user"], "local");
    assert.equal(request?.headers.authorization, undefined);
  });

  it("refuses arguments that do not match the skill's parameters without calling it", async () => {
    for (const args of [{ orderId: 1001 }, {}, { orderId: "A-1001", extra: true }, { orderId: "'; DROP TABLE orders" }]) {
      const { status, body } = await invoke("lookup-order", { arguments: args });
      assert.equal(status, 400);
      assert.equal(body.error.code, "invalid_arguments");
    }
    for (const body of [{ arguments: [] }, { arguments: "x" }, { arguments: {}, more: 1 }, { confirm: "yes" }]) {
      assert.equal((await invoke("lookup-order", body)).status, 400);
    }
    assert.equal(erp.requests.length, 0);
  });

  it("answers 404 for a skill that does not exist and 400 for a name that cannot be one", async () => {
    assert.equal((await invoke("no-such-skill", { arguments: {} })).body.error.code, "skill_not_found");
    assert.equal((await invoke("bad%20name", { arguments: {} })).status, 400);
  });

  it("passes the skill's own refusal (4xx) on as 422 with its answer", async () => {
    const { status, body } = await invoke("lookup-order", { arguments: { orderId: "Z-9999" } });
    assert.equal(status, 422);
    assert.equal(body.error.code, "skill_rejected");
    assert.match(body.error.message, /404: \{"error":"no such order"\}/);
  });

  it("turns a 500 from the skill into 502 skill_failed", async () => {
    const { status, body } = await invoke("broken-order", { arguments: { orderId: "A-1001" } });
    assert.equal(status, 502);
    assert.equal(body.error.code, "skill_failed");
  });

  it("gives up on a skill that does not answer within its timeoutMs: 504", async () => {
    const { status, body } = await invoke("slow-order", { arguments: { orderId: "A-1001" } });
    assert.equal(status, 504);
    assert.equal(body.error.code, "skill_timeout");
  });

  it("stops reading an answer as soon as it passes maxResponseBytes", async () => {
    // The skill writes until the reader hangs up: this returns only because the limit cut it.
    const { status, body } = await invoke("huge-order", { arguments: { orderId: "A-1001" } });
    assert.equal(status, 502);
    assert.equal(body.error.code, "skill_response_too_large");
  });

  it("follows a redirect on the same host, and refuses one to another host before connecting there", async () => {
    const moved = await invoke("moved-order", { arguments: { orderId: "A-1002" } });
    assert.equal(moved.status, 200);
    assert.equal((moved.body.result as { orderId: string }).orderId, "A-1002");
    const away = await invoke("elsewhere-order", { arguments: { orderId: "A-1002" } });
    assert.equal(away.status, 502);
    assert.equal(away.body.error.code, "skill_blocked");
    assert.match(away.body.error.message, /redirect to another host \(127\.0\.0\.2:\d+\) refused/);
    assert.equal(elsewhere.requests.length, 0);
  });

  it("runs a side-effecting skill only with confirm: true, sending its Authorization header", async () => {
    const refused = await invoke("create-return", { arguments: { orderId: "A-1001", reason: "damaged" } });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, "confirmation_required");
    assert.equal(erp.requests.length, 0);
    const { status, body } = await invoke("create-return", { arguments: { orderId: "A-1001", reason: "damaged" }, confirm: true });
    assert.equal(status, 200);
    assert.deepEqual(body.result, { returnId: "R-A-1001", orderId: "A-1001", status: "created" });
    const [request] = erp.requests;
    assert.equal(request?.method, "POST");
    assert.equal(request?.headers["content-type"], "application/json");
    assert.equal(request?.headers.authorization, ERP_AUTHORIZATION);
    assert.deepEqual(JSON.parse(request?.body ?? ""), { orderId: "A-1001", reason: "damaged" });
  });

  it("runs skills by command in chat without a model, masking the result before it is stored", async () => {
    const { status, body } = await call<ChatReply>("POST", "/api/v1/chat", { message: '/lookup-order {"orderId": "A-1001"}' });
    assert.equal(status, 200);
    assert.match(body.reply, /^Result of lookup-order:\n\{\n {2}"orderId": "A-1001"/);
    assert.match(body.reply, /13812345678/);
    assert.deepEqual(body.sources, []);
    const stored = await call<{ turns: { role: string; content: string }[] }>("GET", `/api/v1/conversations/${body.conversationId}`);
    const storedReply = stored.body.turns[1]?.content ?? "";
    assert.match(storedReply, /138\*{4}5678/);
    assert.doesNotMatch(storedReply, /13812345678/);
  });

  it("asks for confirmation of a side-effecting command and runs it on /confirm", async () => {
    const asked = await call<ChatReply>("POST", "/api/v1/chat", { message: '/create-return {"orderId": "A-1002"}' });
    assert.equal(asked.body.reply, 'create-return changes data, so it runs only after you confirm. To run it, send:\n/confirm create-return {"orderId":"A-1002"}');
    assert.equal(erp.requests.length, 0);
    const confirmed = await call<ChatReply>("POST", "/api/v1/chat", {
      message: '/confirm create-return {"orderId":"A-1002"}',
      conversationId: asked.body.conversationId,
    });
    assert.match(confirmed.body.reply, /"returnId": "R-A-1002"/);
    assert.equal(erp.requests.length, 1);
  });

  it("answers a failed or malformed command in the conversation, and leaves ordinary slashes alone", async () => {
    const invalid = await call<ChatReply>("POST", "/api/v1/chat", { message: "/lookup-order {orderId: A-1001}" });
    assert.match(invalid.body.reply, /^lookup-order failed: arguments are not valid JSON/);
    const chinese = await call<ChatReply>("POST", "/api/v1/chat", { message: '/lookup-order {"orderId": "上周买的那个订单"}' });
    assert.match(chinese.body.reply, /^lookup-order 调用失败：arguments do not match lookup-order's parameters/);
    const question = await call<ChatReply>("POST", "/api/v1/chat", { message: "/etc/hosts 是什么？" });
    assert.doesNotMatch(question.body.reply, /failed|失败/);
    assert.equal(erp.requests.length, 0);
  });

  it("streams a command's result like any answer", async () => {
    const response = await fetch(`${service.url}/api/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ message: '/lookup-order {"orderId": "A-1002"}' }),
    });
    const names: string[] = [];
    for await (const event of sseEvents(response)) names.push(event.event);
    assert.deepEqual(names, ["start", "delta", "done"]);
  });

  it("counts calls, errors and latency per skill, and audits every call without arguments or results", async () => {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    assert.match(metrics, /assistant_skill_calls_total\{skill="lookup-order",outcome="ok"\} [1-9]/);
    assert.match(metrics, /assistant_skill_calls_total\{skill="create-return",outcome="confirmation_required"\} [1-9]/);
    assert.match(metrics, /assistant_skill_errors_total\{skill="slow-order",code="skill_timeout"\} 1/);
    assert.match(metrics, /assistant_skill_errors_total\{skill="lookup-order",code="invalid_arguments"\} [1-9]/);
    assert.match(metrics, /assistant_skill_request_duration_seconds_count\{skill="huge-order"\} 1/);
    const lines = skillLines(service);
    const viaInvoke = lines.find((line) => line["skill"] === "create-return" && line["outcome"] === "ok");
    assert.deepEqual(
      { ...viaInvoke, time: 0, pid: 0, hostname: "", reqId: "", durationMs: 0 },
      {
        level: 30,
        time: 0,
        pid: 0,
        hostname: "",
        reqId: "",
        audit: true,
        skill: "create-return",
        via: "invoke",
        outcome: "ok",
        skillStatus: 201,
        confirmed: true,
        durationMs: 0,
        actor: { tenant: "default", user: "local", authMethod: "none" },
        msg: "skill call",
      },
    );
    assert.ok(lines.some((line) => line["via"] === "command"));
    const everything = service.logs.join("\n");
    for (const secret of ["erp-secret", "13812345678", "A-1001", "damaged"]) assert.ok(!everything.includes(secret), `${secret} reached the log`);
  });
});

describe("skill network policy (SSRF)", function () {
  this.timeout(60000);
  let erp: ErpServer;
  before(async () => {
    erp = await startErp();
  });
  after(async () => {
    await erp.close();
  });

  const blockedSkill = (name: string, url: string) => ({ name, description: "x", endpoint: { url, method: "POST" } });

  it("refuses loopback and private addresses unless allowPrivateNetworks is set, by literal and by name", async () => {
    const port = erp.hostPort.split(":")[1] ?? "";
    const service = await startService({
      config: {
        skills: [
          blockedSkill("by-address", `${erp.url}/echo`),
          blockedSkill("by-name", `http://localhost:${port}/echo`),
          blockedSkill("ipv4-compatible", `http://[::127.0.0.1]:${port}/echo`),
          blockedSkill("ipv4-translated", `http://[::ffff:0:127.0.0.1]:${port}/echo`),
        ],
        skillHosts: [erp.hostPort, `localhost:${port}`, `[::7f00:1]:${port}`, `[::ffff:0:7f00:1]:${port}`],
      },
    });
    try {
      const call = apiClient(service.url);
      const byAddress = await call<ErrorBody>("POST", "/api/v1/skills/by-address/invoke", { arguments: {} });
      assert.equal(byAddress.status, 502);
      assert.deepEqual(byAddress.body.error, {
        code: "skill_blocked",
        message: `${erp.hostPort} is a loopback, private or link-local address (skillOptions.allowPrivateNetworks is off)`,
      });
      const byName = await call<ErrorBody>("POST", "/api/v1/skills/by-name/invoke", { arguments: {} });
      assert.equal(byName.status, 502);
      assert.match(byName.body.error.message, /^localhost resolves to a loopback, private or link-local address/);
      // IPv6 addresses that carry 127.0.0.1.
      for (const [name, host] of [["ipv4-compatible", "[::7f00:1]"], ["ipv4-translated", "[::ffff:0:7f00:1]"]] as const) {
        const embedded = await call<ErrorBody>("POST", `/api/v1/skills/${name}/invoke`, { arguments: {} });
        assert.equal(embedded.status, 502);
        assert.equal(embedded.body.error.message, `${host}:${port} is a loopback, private or link-local address (skillOptions.allowPrivateNetworks is off)`);
      }
      assert.equal(erp.requests.length, 0);
    } finally {
      await service.stop();
    }
  });

  it("refuses cloud metadata addresses even with allowPrivateNetworks, and never connects to them", async () => {
    const service = await startService({
      config: {
        skills: [blockedSkill("metadata", "http://169.254.169.254/latest/meta-data/"), blockedSkill("metadata-v6", "http://[fd00:ec2::254]/latest/")],
        skillHosts: ["169.254.169.254:80", "[fd00:ec2::254]:80"],
        skillOptions: { allowPrivateNetworks: true },
      },
    });
    try {
      const call = apiClient(service.url);
      for (const name of ["metadata", "metadata-v6"]) {
        const { status, body } = await call<ErrorBody>("POST", `/api/v1/skills/${name}/invoke`, { arguments: {} });
        assert.equal(status, 502);
        assert.equal(body.error.code, "skill_blocked");
        assert.match(body.error.message, /is a cloud metadata address$/);
      }
    } finally {
      await service.stop();
    }
  });
});
