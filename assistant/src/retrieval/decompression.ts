import { constants, createInflate } from "node:zlib";
import JSZip from "jszip";

/**
 * Decompression-bomb checks, run before a parser inflates anything: each measures what an archive
 * entry or a compressed stream really unpacks to (never what its headers claim), and stops reading
 * as soon as it passes the limit, so the check itself never holds more than the limit.
 */

/** Whether a zip entry unpacks to more than `maxBytes`; reading stops once it does. */
function unpacksPast(entry: JSZip.JSZipObject, maxBytes: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const stream = entry.nodeStream("nodebuffer");
    let unpacked = 0;
    stream.on("data", (chunk: Buffer) => {
      unpacked += chunk.length;
      if (unpacked > maxBytes) {
        stream.pause();
        stream.removeAllListeners();
        resolve(true);
      }
    });
    stream.on("end", () => {
      resolve(false);
    });
    stream.on("error", reject);
  });
}

/** The first entry of a zip archive (a .docx) that unpacks to more than `maxBytes`, if any. */
export async function oversizedZipEntry(archive: Uint8Array, maxBytes: number): Promise<string | undefined> {
  const zip = await JSZip.loadAsync(archive);
  for (const entry of Object.values(zip.files)) {
    if (!entry.dir && (await unpacksPast(entry, maxBytes))) return entry.name;
  }
  return undefined;
}

/**
 * How many bytes zlib data starting at `data` inflates to, reading no further than `maxBytes` past
 * the limit. What inflates before an error counts: a parser reading the same bytes gets as far.
 */
function inflatedBytes(data: Uint8Array, maxBytes: number): Promise<number> {
  return new Promise((resolve) => {
    const inflate = createInflate({ finishFlush: constants.Z_SYNC_FLUSH });
    let inflated = 0;
    inflate.on("data", (chunk: Buffer) => {
      inflated += chunk.length;
      if (inflated > maxBytes) {
        inflate.destroy();
        resolve(inflated);
      }
    });
    inflate.on("error", () => {
      resolve(inflated);
    });
    inflate.on("end", () => {
      resolve(inflated);
    });
    inflate.end(data);
  });
}

const STREAM_START = /(?<!end)stream\r?\n/g;

/**
 * The offset of the first compressed stream of a PDF that inflates to more than `maxBytes`, if any.
 * Every `stream` keyword is tried as the start of zlib data (FlateDecode, the one filter a bomb
 * uses) up to the end of the file: zlib data ends by itself, so neither a wrong /Length nor an
 * `endstream` hidden inside the data cuts a stream short here.
 */
export async function oversizedPdfStream(pdf: Uint8Array, maxBytes: number): Promise<number | undefined> {
  const text = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength).toString("latin1");
  for (const match of text.matchAll(STREAM_START)) {
    const start = match.index + match[0].length;
    if ((await inflatedBytes(pdf.subarray(start), maxBytes)) > maxBytes) return match.index;
  }
  return undefined;
}
