import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { eventually } from "./kube.js";
import { freePort } from "./net.js";

const assistantMain = fileURLToPath(new URL("../../../../assistant/dist/src/main.js", import.meta.url));

/**
 * Runs what a pod of `deployment` would run, without a container runtime: the assistant's
 * compiled entry point (the image's command) with the container's env, and each ConfigMap or
 * Secret volume written out under a temporary root at its mountPath. Paths in the env and in the
 * mounted config are re-rooted there, exactly as the mounts would place them.
 */
export class PodRunner {
  private child: ChildProcess | undefined;
  private root = "";
  output = "";
  url = "";

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly deployment: k8s.V1Deployment,
    /** The port to serve on when it is free (as a port-forward would take it); else any free one. */
    private readonly preferredPort?: number,
  ) {}

  async start(): Promise<this> {
    const namespace = this.deployment.metadata?.namespace ?? "";
    const pod = this.deployment.spec?.template.spec;
    const container = pod?.containers[0];
    if (!pod || !container) throw new Error("the Deployment has no container");
    this.root = await mkdtemp(join(tmpdir(), "aia-pod-"));
    const reroot = (text: string) => text.replaceAll(/(^|[\s"'])\/(etc|app|tmp)\//g, `$1${this.root}/$2/`);
    const core = this.kc.makeApiClient(k8s.CoreV1Api);

    for (const mount of container.volumeMounts ?? []) {
      const volume = pod.volumes?.find((v) => v.name === mount.name);
      let files: Record<string, string> = {};
      if (volume?.configMap) files = (await core.readNamespacedConfigMap({ name: volume.configMap.name ?? "", namespace })).data ?? {};
      else if (volume?.secret) {
        const data = (await core.readNamespacedSecret({ name: volume.secret.secretName ?? "", namespace })).data ?? {};
        files = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));
      }
      const dir = join(this.root, mount.mountPath);
      await mkdir(dir, { recursive: true });
      for (const [name, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, name)), { recursive: true });
        await writeFile(join(dir, name), reroot(text));
      }
    }

    const port = await freePort(this.preferredPort);
    const env: Record<string, string> = {};
    for (const variable of container.env ?? []) if (variable.value !== undefined) env[variable.name] = reroot(variable.value);
    Object.assign(env, { PORT: String(port), HOST: "127.0.0.1" });
    this.child = spawn(process.execPath, [assistantMain], { env: { PATH: process.env["PATH"] ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const collect = (chunk: Buffer) => (this.output += chunk.toString());
    this.child.stdout?.on("data", collect);
    this.child.stderr?.on("data", collect);
    this.url = `http://127.0.0.1:${port}`;
    const probe = container.readinessProbe?.httpGet?.path ?? "/readyz";
    await eventually(`the assistant to answer ${probe}`, async () => ((await fetch(`${this.url}${probe}`)).ok ? true : undefined));
    return this;
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      const exited = once(this.child, "exit");
      this.child.kill("SIGTERM");
      await exited;
    }
    await rm(this.root, { recursive: true, force: true });
  }
}
