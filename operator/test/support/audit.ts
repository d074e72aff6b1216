import { readFile } from "node:fs/promises";

interface AuditEvent {
  verb: string;
  stageTimestamp: string;
  requestURI: string;
  objectRef?: { namespace?: string; resource?: string; subresource?: string; name?: string };
  user?: { username?: string };
  responseStatus?: { code?: number };
}

/**
 * Write requests the API server audited for `namespace` since `since` (hack/control-plane.sh
 * audits every create/update/patch/delete into $AIA_CONTROL_PLANE_DIR/audit.log).
 */
export async function writesSince(namespace: string, since: Date): Promise<AuditEvent[]> {
  return (await auditedSince(since)).filter((e) => e.objectRef?.namespace === namespace);
}

/** Write requests of `username` the API server refused (403 Forbidden) since `since`, in any namespace. */
export async function forbiddenSince(username: string, since: Date): Promise<AuditEvent[]> {
  return (await auditedSince(since)).filter((e) => e.user?.username === username && e.responseStatus?.code === 403);
}

async function auditedSince(since: Date): Promise<AuditEvent[]> {
  const dir = process.env["AIA_CONTROL_PLANE_DIR"];
  if (!dir) throw new Error("AIA_CONTROL_PLANE_DIR is not set: run this in the api or e2e tier");
  const lines = (await readFile(`${dir}/audit.log`, "utf8")).split("\n").filter(Boolean);
  return lines.map((line) => JSON.parse(line) as AuditEvent).filter((e) => new Date(e.stageTimestamp) >= since);
}
