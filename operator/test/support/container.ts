import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { V1Container, V1PodSpec, V1Probe } from "@kubernetes/client-node";
import { parseQuantity } from "../../src/api/quantity.js";
import { eventually } from "./kube.js";

const run = promisify(execFile);
const imagesScript = fileURLToPath(new URL("../../../../hack/images.sh", import.meta.url));

/** podman with the project's settings (runc, cgroupfs, the sandbox's rlimits: hack/images/containers.conf). */
export async function podman(...args: string[]): Promise<string> {
  const { stdout } = await run(imagesScript, ["podman", ...args], { maxBuffer: 64 << 20 });
  return stdout;
}

/** The reference `hack/images.sh` builds an image under (the name the chart and the CRD deploy). */
export async function imageRef(name: "assistant" | "operator"): Promise<string> {
  return (await run(imagesScript, ["ref", name])).stdout.trim();
}

/** Every path in an image's file system, from an export of a container made from it (never started). */
export async function imageFiles(ref: string): Promise<Set<string>> {
  const container = (await podman("create", ref)).trim();
  try {
    const { stdout } = await run("sh", ["-c", '"$0" podman export "$1" | tar -t', imagesScript, container], { maxBuffer: 256 << 20 });
    return new Set(stdout.split("\n").map((line) => line.replace(/\/$/, "")));
  } finally {
    await podman("rm", "--volumes", container);
  }
}

/** A folder on the host that plays a pod volume; world-traversable, so the pod's user can reach what is mounted from it. */
export class HostVolumes {
  private constructor(readonly root: string) {}

  static async create(): Promise<HostVolumes> {
    const root = await mkdtemp(join(tmpdir(), "aia-container-"));
    await chmod(root, 0o755);
    return new HostVolumes(root);
  }

  /**
   * A writable volume (emptyDir or a PersistentVolumeClaim) as the kubelet prepares one for a pod
   * with `fsGroup`: group-owned by it, group-writable and setgid, so the pod's user can write.
   */
  async writable(name: string, fsGroup: number | undefined): Promise<string> {
    const dir = join(this.root, name);
    await mkdir(dir, { recursive: true });
    if (fsGroup !== undefined) await chown(dir, 0, fsGroup);
    await chmod(dir, fsGroup === undefined ? 0o777 : 0o2775);
    return dir;
  }

  /** A ConfigMap or Secret volume: its keys as read-only files. */
  async files(name: string, data: Record<string, string>): Promise<string> {
    const dir = join(this.root, name);
    for (const [key, text] of Object.entries(data)) {
      await mkdir(dirname(join(dir, key)), { recursive: true, mode: 0o755 });
      await writeFile(join(dir, key), text, { mode: 0o644 });
    }
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o755);
    return dir;
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/** What a pod's container needs from outside its spec to run under podman. */
export interface PodRun {
  name: string;
  pod: V1PodSpec;
  /** The host folder of every volume the container mounts, by volume name. */
  volumes: Record<string, string>;
  /** The values of `secretKeyRef`s, by Secret name and key. */
  secrets?: Record<string, Record<string, string>>;
  /** metadata.name and metadata.namespace, for `fieldRef`s. */
  metadata?: { name: string; namespace: string };
  /**
   * Variables that replace the spec's. The containers share the host's network namespace (so that
   * every test request stays on loopback), where the pod's port 8080 may be taken: the caller moves
   * the listener to a free loopback port with them.
   */
  env?: Record<string, string>;
}

function onlyContainer(pod: V1PodSpec): V1Container {
  const [container, ...others] = pod.containers;
  if (!container || others.length > 0) throw new Error(`expected one container, got ${pod.containers.length}`);
  return container;
}

function envOf(spec: PodRun, container: V1Container): Record<string, string> {
  if (container.envFrom?.length) throw new Error("envFrom is not translated to podman");
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const secretRef = variable.valueFrom?.secretKeyRef;
    const fieldPath = variable.valueFrom?.fieldRef?.fieldPath;
    let value = variable.value;
    if (secretRef) value = spec.secrets?.[secretRef.name ?? ""]?.[secretRef.key];
    else if (fieldPath === "metadata.name") value = spec.metadata?.name;
    else if (fieldPath === "metadata.namespace") value = spec.metadata?.namespace;
    if (value === undefined) throw new Error(`no value for env ${variable.name}`);
    env[variable.name] = value;
  }
  return { ...env, ...spec.env };
}

/**
 * `podman run` arguments that run the pod's container as a kubelet would: its user and groups,
 * read-only root filesystem with nothing writable but its volumes (podman would add tmpfs mounts
 * a kubelet does not), capabilities, no privilege escalation, the runtime's default seccomp
 * profile, memory and CPU limits, env, volumes, command and args.
 */
export function podmanRunArgs(spec: PodRun, image: string): string[] {
  const container = onlyContainer(spec.pod);
  const pod = spec.pod.securityContext ?? {};
  const own = container.securityContext ?? {};
  const args = ["run", "--detach", "--name", spec.name, "--network", "host"];
  const user = own.runAsUser ?? pod.runAsUser;
  const group = own.runAsGroup ?? pod.runAsGroup;
  if (user !== undefined) args.push("--user", group === undefined ? String(user) : `${user}:${group}`);
  if (pod.fsGroup !== undefined) args.push("--group-add", String(pod.fsGroup));
  for (const extra of pod.supplementalGroups ?? []) args.push("--group-add", String(extra));
  if (own.readOnlyRootFilesystem) args.push("--read-only", "--read-only-tmpfs=false");
  for (const capability of own.capabilities?.drop ?? []) args.push("--cap-drop", capability);
  for (const capability of own.capabilities?.add ?? []) args.push("--cap-add", capability);
  if (own.allowPrivilegeEscalation === false) args.push("--security-opt", "no-new-privileges");
  if (own.privileged) throw new Error("privileged containers are not run here");
  const seccomp = own.seccompProfile?.type ?? pod.seccompProfile?.type;
  if (seccomp === "Unconfined") args.push("--security-opt", "seccomp=unconfined");
  else if (seccomp === "Localhost") throw new Error("Localhost seccomp profiles are not translated");
  const limits = container.resources?.limits ?? {};
  if (limits["memory"] !== undefined) args.push("--memory", String(parseQuantity(limits["memory"])));
  if (limits["cpu"] !== undefined) args.push("--cpus", String(parseQuantity(limits["cpu"])));
  for (const [name, value] of Object.entries(envOf(spec, container))) args.push("--env", `${name}=${value}`);
  for (const mount of container.volumeMounts ?? []) {
    if (mount.subPath !== undefined) throw new Error("subPath mounts are not translated");
    const source = spec.volumes[mount.name];
    if (source === undefined) throw new Error(`no host folder for volume ${mount.name}`);
    args.push("--volume", `${source}:${mount.mountPath}${mount.readOnly ? ":ro" : ""}`);
  }
  if (container.workingDir !== undefined) args.push("--workdir", container.workingDir);
  // Kubernetes' command replaces the image's ENTRYPOINT and its args the CMD.
  if (container.command !== undefined) args.push("--entrypoint", JSON.stringify(container.command));
  args.push(image, ...(container.args ?? []));
  return args;
}

/** A container started from a pod spec; stops as the kubelet stops a pod (SIGTERM, then SIGKILL after the grace period). */
export class PodContainer {
  readonly startedAt = Date.now();

  private constructor(
    readonly name: string,
    readonly spec: PodRun,
  ) {}

  /** Runs the pod's container under `spec.name` plus a suffix of its own, so that no earlier run's container is in the way. */
  static async start(spec: PodRun, image: string): Promise<PodContainer> {
    const name = `${spec.name}-${randomBytes(3).toString("hex")}`;
    try {
      await podman(...podmanRunArgs({ ...spec, name }, image));
    } catch (error) {
      await podman("rm", "--force", "--ignore", name);
      throw error;
    }
    return new PodContainer(name, spec);
  }

  get graceSeconds(): number {
    return this.spec.pod.terminationGracePeriodSeconds ?? 30;
  }

  /** Polls an httpGet probe of the container on `baseUrl` until it succeeds; returns the milliseconds since start. */
  async waitForProbe(probe: V1Probe | undefined, baseUrl: string): Promise<number> {
    const path = probe?.httpGet?.path;
    if (path === undefined) throw new Error("the probe is not an httpGet probe");
    const timeoutMs = Math.max(30_000, (probe?.periodSeconds ?? 10) * (probe?.failureThreshold ?? 3) * 1000);
    await eventually(`${this.name} to pass ${path}`, async () => ((await fetch(`${baseUrl}${path}`)).ok ? true : undefined), { timeoutMs, intervalMs: 100 });
    return Date.now() - this.startedAt;
  }

  async exec(...command: string[]): Promise<string> {
    return podman("exec", this.name, ...command);
  }

  async logs(): Promise<string> {
    const { stdout, stderr } = await run(imagesScript, ["podman", "logs", this.name], { maxBuffer: 64 << 20 });
    return stdout + stderr;
  }

  /** Waits for the container to end on its own; returns its exit code. */
  async wait(): Promise<number> {
    return Number((await podman("wait", this.name)).trim());
  }

  /** SIGTERM, and SIGKILL once the pod's grace period is over; returns the exit code and how long it took. */
  async stop(): Promise<{ exitCode: number; ms: number }> {
    const started = Date.now();
    await podman("stop", "--time", String(this.graceSeconds), this.name);
    const ms = Date.now() - started;
    const exitCode = Number((await podman("inspect", "--format", "{{.State.ExitCode}}", this.name)).trim());
    return { exitCode, ms };
  }

  async remove(): Promise<void> {
    await podman("rm", "--force", "--ignore", "--volumes", this.name);
  }
}
