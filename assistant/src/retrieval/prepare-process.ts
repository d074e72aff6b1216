import { setPriority } from "node:os";
import { createMasker } from "../masking/mask.js";
import { capAddressSpace } from "./address-space.js";
import { UnreadableDocumentError } from "./document-format.js";
import { prepareDocument } from "./prepare.js";
import { OUT_OF_MEMORY, outOfMemory, type PrepareMessage, type PrepareReply, type ProcessSettings } from "./preparer.js";

/** The preparing process: one request at a time from DocumentPreparer, one reply each. */
const settings = JSON.parse(process.argv[2] ?? "") as ProcessSettings;
const mask = settings.mask === undefined ? undefined : createMasker(settings.mask.mode, settings.mask.rules);
const reply = (message: PrepareReply): void => {
  process.send?.(message);
};
if (process.send === undefined) throw new Error("prepare-process runs only as a child process of DocumentPreparer");
// The whole process is the parser's: it yields the CPU to the service whenever both want it.
setPriority(19);
// Every module it needs is loaded by now: from here on, what it maps counts against parseMemoryMb.
capAddressSpace(settings.memoryMb * 2 ** 20);
// The service is gone (or closed the channel): the parser goes too.
process.on("disconnect", () => process.exit(0));

process.on("message", ({ id, request }: PrepareMessage) => {
  prepareDocument(request, mask, settings.limits).then(
    (document) => {
      reply({ id, document });
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      // Memory the limits refused (perhaps inside a parser, which wraps the error): the same document would be refused again.
      if (OUT_OF_MEMORY.test(message)) reply({ id, error: outOfMemory(settings.memoryMb), unreadable: true });
      else reply({ id, error: message, unreadable: error instanceof UnreadableDocumentError });
    },
  );
});

