import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { createMasker } from "../masking/mask.js";
import { UnreadableDocumentError } from "./parse.js";
import { prepareDocument } from "./prepare.js";
import type { PrepareMessage, PrepareReply, PreparerSettings } from "./preparer.js";

/** The preparing thread: one request at a time from DocumentPreparer, one reply each. */
const settings = workerData as PreparerSettings;
const mask = settings.mask === undefined ? undefined : createMasker(settings.mask.mode, settings.mask.rules);
const port = parentPort;
if (port === null) throw new Error("prepare-worker runs only as a worker thread");
// On Linux the nice value belongs to the thread, so this thread (and only it) yields the CPU to the
// event loop serving chat whenever both want it. Elsewhere it would lower the whole process: left alone.
if (process.platform === "linux") setPriority(19);

port.on("message", ({ id, request }: PrepareMessage) => {
  prepareDocument(request, mask).then(
    (document) => {
      port.postMessage({ id, document } satisfies PrepareReply);
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      port.postMessage({ id, error: message, unreadable: error instanceof UnreadableDocumentError } satisfies PrepareReply);
    },
  );
});
