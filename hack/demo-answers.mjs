// What both demos (simulated and real node) print and check: the questions, the curl command a user
// runs, and the check that its answer cites a document of the sample.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

export const sampleFile = fileURLToPath(new URL("../config/samples/aiassistant.yaml", import.meta.url));
export const questions = ["My VPN connection drops every few minutes, what should I do?", "每年有几天带薪年假？"];
export const step = (text) => console.log(`\n==> ${text}`);

/** The headings of the sample's knowledge documents: a grounded answer cites one of them. */
export async function sampleTitles() {
  const objects = parseAllDocuments(await readFile(sampleFile, "utf8")).map((d) => d.toJS());
  const texts = objects.filter((o) => o.kind === "ConfigMap").flatMap((o) => Object.values(o.data ?? {}));
  return texts.map((text) => /^#\s+(.+)$/m.exec(text)?.[1]?.trim()).filter(Boolean);
}

const shellQuote = (text) => `'${text.replaceAll("'", `'\\''`)}'`;

/** The command line that asks `baseURL` one question, optionally run through a prefix (`hack/control-plane.sh exec --`). */
export const curlCommand = (baseURL, message, prefix = "") =>
  `${prefix}curl -sS ${baseURL}/api/v1/chat -H 'content-type: application/json' -d ${shellQuote(JSON.stringify({ message }))}`;

/** Runs a printed command line as a user's shell would, and checks that its answer cites the sample. */
export async function runAndCheck(command, titles) {
  console.log(`\n$ ${command}`);
  const { stdout } = await promisify(execFile)("sh", ["-c", command]);
  console.log(stdout.trim());
  const answer = JSON.parse(stdout);
  const cited = (answer.sources ?? []).filter((s) => titles.includes(s.title));
  if (typeof answer.reply !== "string" || cited.length === 0) throw new Error(`the answer cites none of the sample's documents (${titles.join(", ")})`);
  console.log(`grounded: cites ${cited.map((s) => `[${s.index}] ${s.title}`).join(", ")}`);
}
