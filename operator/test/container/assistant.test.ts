import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { fileURLToPath } from "node:url";
import type { KubernetesObject, V1ConfigMap, V1CronJob, V1Deployment, V1PodSpec } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import type { AIAssistant } from "../../src/api/types.generated.js";
import { desiredState } from "../../src/resources/desired.js";
import { defaultedAIAssistant } from "../support/aiassistant.js";
import { HostVolumes, imageRef, PodContainer, type PodRun } from "../support/container.js";
import { eventually } from "../support/kube.js";
import { freePort } from "../support/net.js";

const sampleFile = fileURLToPath(new URL("../../../../config/samples/aiassistant.yaml", import.meta.url));

interface S3Server {
  endpoint: string;
  keys(prefix: string): Promise<string[]>;
  stop(): Promise<void>;
}
/** The S3-compatible server the assistant's backup tests run (compiled; `npm test` builds both workspaces first). */
const s3Support = new URL("../../../../assistant/dist/test/support/s3-server.js", import.meta.url).href;

interface ChatReply {
  reply: string;
  conversationId: string;
  sources: { title: string }[];
}

// The type argument names the shape the caller expects of the answer.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
async function postJSON<T>(url: string, body: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as T };
}

async function getJSON<T>(url: string): Promise<T> {
  const response = await fetch(url);
  assert.equal(response.status, 200, `GET ${url}`);
  return (await response.json()) as T;
}

/** The sample's knowledge ConfigMap and its AIAssistant, as `kubectl apply -f` would send them. */
async function sample(): Promise<{ knowledge: V1ConfigMap; spec: Record<string, unknown> }> {
  const objects = parseAllDocuments(await readFile(sampleFile, "utf8")).map((document) => document.toJS() as KubernetesObject & Record<string, unknown>);
  const knowledge = objects.find((object) => object.kind === "ConfigMap") as V1ConfigMap | undefined;
  const assistant = objects.find((object) => object.kind === "AIAssistant");
  assert.ok(knowledge && assistant);
  return { knowledge, spec: assistant["spec"] as Record<string, unknown> };
}

function podOf(objects: KubernetesObject[], kind: string, spec: (object: KubernetesObject) => V1PodSpec | undefined): V1PodSpec {
  const object = objects.find((candidate) => candidate.kind === kind);
  const pod = object && spec(object);
  assert.ok(pod, `no ${kind} with a pod spec`);
  return pod;
}

describe("the assistant image, run as the operator's pod spec runs it", function () {
  this.timeout(120_000);
  let image: string;
  let aia: AIAssistant;
  let pod: V1PodSpec;
  let hostVolumes: HostVolumes;
  let volumes: Record<string, string>;
  const containers: PodContainer[] = [];
  let baseUrl: string;
  let port: number;
  let conversationId: string;

  /** Starts a container of the pod on the same volumes, and waits for its startup and readiness probes. */
  async function startPod(name: string): Promise<PodContainer> {
    const container = await PodContainer.start({ name, pod, volumes, env: { HOST: "127.0.0.1", PORT: String(port) } }, image);
    containers.push(container);
    const spec = pod.containers[0];
    const healthyMs = await container.waitForProbe(spec?.startupProbe, baseUrl);
    await container.waitForProbe(spec?.readinessProbe, baseUrl);
    console.log(`      ${name}: healthy ${healthyMs} ms after podman run`);
    return container;
  }

  before(async function () {
    image = await imageRef("assistant");
    const { knowledge, spec } = await sample();
    aia = defaultedAIAssistant(spec, "demo", "team-a");
    assert.equal(aia.spec.image, image, "the CRD's default image is the one hack/images.sh builds");
    const desired = desiredState(aia);
    const objects = desired.waves.flat();
    pod = podOf(objects, "Deployment", (deployment) => (deployment as V1Deployment).spec?.template.spec);
    const config = objects.find((object): object is V1ConfigMap => object.kind === "ConfigMap") as V1ConfigMap;
    hostVolumes = await HostVolumes.create();
    const fsGroup = pod.securityContext?.fsGroup;
    volumes = {
      config: await hostVolumes.files("config", config.data ?? {}),
      data: await hostVolumes.writable("data", fsGroup),
      tmp: await hostVolumes.writable("tmp", fsGroup),
      "knowledge-handbook": await hostVolumes.files("knowledge-handbook", knowledge.data ?? {}),
    };
    const mounted = (pod.containers[0]?.volumeMounts ?? []).map((mount) => mount.name).sort();
    assert.deepEqual(mounted, Object.keys(volumes).sort(), "every volume of the pod spec is given a host folder");
    port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") for (const container of containers) console.log((await container.logs().catch(String)).split("\n").slice(-20).join("\n"));
  });

  after(async function () {
    for (const container of containers) await container.remove();
    await hostVolumes.remove();
  });

  it("starts healthy and ready with a read-only root, its numeric user, no capabilities and no privilege escalation", async function () {
    const container = await startPod("aia-assistant-1");
    const status = await container.exec("node", "-p", 'require("fs").readFileSync("/proc/self/status", "utf8")');
    assert.match(status, /^CapEff:\s+0000000000000000$/m);
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    assert.match(status, /^Seccomp:\s+2$/m, "the runtime's default seccomp profile filters system calls");
    assert.match(status, /^Uid:\s+10001\s/m);
    assert.match(status, /^Groups:.*\b10001\b/m);
    const writes = await container.exec(
      "node",
      "-p",
      'const fs = require("fs"); ["/app/probe", "/tmp/probe", "/app/data/probe"].map((p) => { try { fs.writeFileSync(p, "x"); fs.rmSync(p); return p + " ok"; } catch (e) { return p + " " + e.code; } }).join(",")',
    );
    assert.equal(writes.trim(), "/app/probe EROFS,/tmp/probe ok,/app/data/probe ok");
  });

  it("answers a chat in English and in Chinese from the sample's mounted handbook", async function () {
    const english = await postJSON<ChatReply>(`${baseUrl}/api/v1/chat`, { message: "My VPN connection drops every few minutes, what should I do?" });
    assert.equal(english.status, 200);
    assert.match(english.body.reply, /IKEv2/);
    assert.deepEqual(
      english.body.sources.map((source) => source.title),
      ["VPN access"],
    );
    conversationId = english.body.conversationId;
    const chinese = await postJSON<ChatReply>(`${baseUrl}/api/v1/chat`, { message: "年假有多少天？" });
    assert.equal(chinese.status, 200);
    assert.match(chinese.body.reply, /十五天/);
  });

  it("takes a knowledge upload onto its volume and answers from it", async function () {
    const form = new FormData();
    form.append("file", new Blob(["# Printers\nThe badge printer on floor 3 is named PRN-HELIOS-7. Toner requests go to facilities.\n"]), "printers.md");
    const upload = await fetch(`${baseUrl}/api/v1/knowledge/documents`, { method: "POST", body: form });
    assert.equal(upload.status, 202);
    const { job } = (await upload.json()) as { job: { id: string } };
    const settled = await eventually("the upload to be indexed", async () => {
      const view = await getJSON<{ status: string; error: string | null }>(`${baseUrl}/api/v1/knowledge/jobs/${job.id}`);
      return view.status === "succeeded" || view.status === "failed" ? view : undefined;
    });
    assert.equal(settled.status, "succeeded", settled.error ?? "");
    const answer = await postJSON<ChatReply>(`${baseUrl}/api/v1/chat`, { message: "What is the badge printer on floor 3 called?", conversationId });
    assert.match(answer.body.reply, /PRN-HELIOS-7/);
  });

  it("drains on SIGTERM: a request in flight is answered, the process exits 0 within the grace period", async function () {
    const [container] = containers;
    assert.ok(container);
    // One keep-alive connection, proven accepted by a first answer, then a chat whose body is still
    // on its way when the signal arrives.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await new Promise<void>((resolve, reject) => {
      request(`${baseUrl}/healthz`, { agent }, (response) => response.resume().on("end", resolve)).on("error", reject).end();
    });
    const body = JSON.stringify({ message: "How many days of annual leave do I get?", conversationId });
    let answered = "";
    const inFlight = new Promise<number>((resolve, reject) => {
      const chat = request(`${baseUrl}/api/v1/chat`, { agent, method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (response) => {
        response.setEncoding("utf8").on("data", (chunk: string) => (answered += chunk));
        response.on("end", () => {
          resolve(response.statusCode ?? 0);
        });
      });
      chat.on("error", reject);
      chat.write(body.slice(0, 10));
      const stopping = container.stop();
      // The rest of the body goes once the container has the signal (its log says it is draining).
      void eventually("the container to start draining", async () => ((await container.logs()).includes("draining") ? true : undefined)).then(() => chat.end(body.slice(10)), reject);
      void stopping.then(({ exitCode, ms }) => {
        console.log(`      SIGTERM -> exit ${exitCode} in ${ms} ms (grace ${container.graceSeconds} s)`);
        if (exitCode !== 0) reject(new Error(`exit code ${exitCode}`));
      }, reject);
    });
    assert.equal(await inFlight, 200);
    assert.match(answered, /"conversationId"/);
    agent.destroy();
    assert.equal(await container.wait(), 0);
  });

  it("a replacement container on the same volume still has the conversation and the uploaded document", async function () {
    await startPod("aia-assistant-2");
    const conversation = await getJSON<{ turns: { role: string; content: string }[] }>(`${baseUrl}/api/v1/conversations/${conversationId}`);
    const questions = conversation.turns.filter((turn) => turn.role === "user").map((turn) => turn.content);
    assert.deepEqual(questions, ["My VPN connection drops every few minutes, what should I do?", "What is the badge printer on floor 3 called?", "How many days of annual leave do I get?"]);
    const documents = await getJSON<{ items: { title: string }[] }>(`${baseUrl}/api/v1/knowledge/documents`);
    assert.ok(documents.items.some((document) => document.title === "Printers"));
  });

  describe("the backup tool of the same image, as the backup CronJob's pod runs it", function () {
    let s3: S3Server;
    let backupPod: V1PodSpec;
    const secrets = { "backup-s3": { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" } };

    before(async function () {
      const support = (await import(s3Support)) as { startS3Server: (bucket: string) => Promise<S3Server> };
      s3 = await support.startS3Server("backups");
      const withBackup = defaultedAIAssistant(
        { ...aia.spec, backup: { enabled: true, s3: { endpoint: s3.endpoint, bucket: "backups", credentialsSecretRef: { name: "backup-s3" } } } },
        "demo",
        "team-a",
      );
      backupPod = podOf(desiredState(withBackup).extras, "CronJob", (job) => (job as V1CronJob).spec?.jobTemplate.spec?.template.spec);
    });

    after(async function () {
      await s3.stop();
    });

    async function runJob(name: string, jobVolumes: Record<string, string>, command?: string[]): Promise<string> {
      const jobPod = structuredClone(backupPod);
      const [container] = jobPod.containers;
      if (command && container) container.command = command;
      const spec: PodRun = { name, pod: jobPod, volumes: jobVolumes, secrets };
      const job = await PodContainer.start(spec, image);
      containers.push(job);
      const exitCode = await job.wait();
      const logs = await job.logs();
      assert.equal(exitCode, 0, logs);
      return logs;
    }

    it("backs up the live database to S3 while the assistant serves", async function () {
      const logs = await runJob("aia-backup", { data: volumes["data"] ?? "", tmp: await hostVolumes.writable("backup-tmp", pod.securityContext?.fsGroup) });
      assert.match(logs, /backup uploaded/);
      const keys = await s3.keys("team-a/demo/");
      assert.equal(keys.length, 1);
      assert.match(keys[0] ?? "", /^team-a\/demo\/\d{8}T\d{6}Z\.db\.gz$/);
    });

    it("restores it onto a new volume, where an assistant finds the conversation", async function () {
      const restored = await hostVolumes.writable("restored", pod.securityContext?.fsGroup);
      const command = [...(backupPod.containers[0]?.command ?? []).slice(0, -1), "restore"];
      const logs = await runJob("aia-restore", { data: restored, tmp: await hostVolumes.writable("restore-tmp", pod.securityContext?.fsGroup) }, command);
      assert.match(logs, /database restored/);
      await containers.find((container) => container.name.startsWith("aia-assistant-2-"))?.stop();
      volumes = { ...volumes, data: restored };
      await startPod("aia-assistant-restored");
      const conversation = await getJSON<{ turns: unknown[] }>(`${baseUrl}/api/v1/conversations/${conversationId}`);
      assert.equal(conversation.turns.length, 6);
    });
  });
});
