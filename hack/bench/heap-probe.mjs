// Loaded into the operator by the scale bench only (node --expose-gc --import this file): on SIGUSR2
// it runs a full garbage collection and writes the heap that survives it (bytes) to
// $AIA_HEAP_PROBE_FILE. That is the live heap, which the memory budget is made of; the RSS the
// bench also reports depends on how much garbage V8 lets pile up first.
import { writeFileSync } from "node:fs";

const file = process.env.AIA_HEAP_PROBE_FILE;
if (file && typeof globalThis.gc === "function") {
  process.on("SIGUSR2", () => {
    globalThis.gc();
    writeFileSync(file, String(process.memoryUsage().heapUsed));
  });
}
