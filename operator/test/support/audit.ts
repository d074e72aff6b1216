import { readFile } from "node:fs/promises";

interface AuditEvent {
  verb: string;
  stageTimestamp: string;
  requestURI: string;
  objectRef?: { namespace?: string; resource?: string; subresource?: string; name?: string };
}

/**
 * Write requests the API server audited for `namespace` since `since` (hack/control-plane.sh
 * audits every create/update/patch/delete into $AIA_CONTROL_PLANE_DIR/audit.log).
 */
export async function writesSince(namespace: string, since: Date): Promise<AuditEvent[]> {
  const dir = process.env["AIA_CONTROL_PLANE_DIR"];
  if (!dir) throw new Error("AIA_CONTROL_PLANE_DIR is not set: run this in the api or e2e tier");
  const lines = (await readFile(`${dir}/audit.log`, "utf8")).split("\n").filter(Boolean);
  return lines
    .map((line) => JSON.parse(line) as AuditEvent)
    .filter((e) => e.objectRef?.namespace === namespace && new Date(e.stageTimestamp) >= since);
}
