import { positiveQuantity } from "../api/quantity.js";

const MiB = 2 ** 20;
/** What V8 gives a 64-bit process that no memory limit constrains. */
const UNCONSTRAINED_SEMI_SPACE_MIB = 32;
/** Three semi-spaces make the young generation: at 1/32 of the limit each, it takes under a tenth. */
const LIMIT_TO_SEMI_SPACE = 32;

/**
 * NODE_OPTIONS for the assistant's container, or undefined when it has no memory limit. Under a
 * limit Node sizes V8's heap from it, and V8 sizes the young generation for a small device: in a
 * 1 GiB cgroup a semi-space of 8 MiB where the same process gets 32 without a limit. The
 * assistant's requests stay alive for as long as the model takes, so with the smaller one they
 * outlive more scavenges, get promoted and leave for mark-compacts: at 200 requests in flight the
 * process ran about 4 times the scavenges and 4 to 9 times the mark-compacts, and 11 to 27 % more
 * CPU per request (docs/benchmarks.md, the gateway benchmark under BENCH_MEMORY_LIMIT_MB).
 * The semi-space is set back to the unconstrained size, scaled down for limits under 1 GiB.
 */
export function nodeOptions(memoryLimit: string | number | undefined): string | undefined {
  const bytes = positiveQuantity(memoryLimit);
  if (bytes === undefined) return undefined;
  const semiSpaceMiB = Math.max(1, Math.min(UNCONSTRAINED_SEMI_SPACE_MIB, Math.floor(bytes / MiB / LIMIT_TO_SEMI_SPACE)));
  return `--max-semi-space-size=${semiSpaceMiB}`;
}
