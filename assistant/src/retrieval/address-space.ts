import { readFileSync } from "node:fs";
import koffi from "koffi";

/** RLIMIT_AS on Linux, the same number on every architecture Node runs on there. */
const RLIMIT_AS = 9;
/** What the runtime itself may still map once loaded: thread stacks (libuv's pool starts lazily), code, V8's young generation. */
const RUNTIME_SLACK_BYTES = 256 * 2 ** 20;

/**
 * Caps this process's address space at what it has mapped now plus `extraBytes` (and the runtime's
 * slack), so everything it allocates from here on, native memory included (zlib, buffers, a
 * parser's arrays), fails past that instead of growing without bound. Lowering one's own limit needs
 * no privilege; Node has no call for it, so it goes to libc through koffi (prebuilt, no shell needed:
 * the image has none). Linux only: elsewhere the JS heap limit is the only one.
 */
export function capAddressSpace(extraBytes: number): void {
  if (process.platform !== "linux") return;
  const mappedKb = Number(/VmSize:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);
  if (!Number.isFinite(mappedKb)) throw new Error("cannot read this process's mapped size from /proc/self/status");
  const libc = koffi.load("libc.so.6");
  koffi.struct("rlimit", { cur: "uint64", max: "uint64" });
  const setrlimit = libc.func("int setrlimit(int resource, const rlimit *limit)") as (resource: number, limit: { cur: number; max: number }) => number;
  const limit = mappedKb * 1024 + RUNTIME_SLACK_BYTES + extraBytes;
  if (setrlimit(RLIMIT_AS, { cur: limit, max: limit }) !== 0) throw new Error("setrlimit(RLIMIT_AS) failed");
}
