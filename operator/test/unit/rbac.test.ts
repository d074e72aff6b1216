import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { KubernetesObject, V1ClusterRole, V1Role } from "@kubernetes/client-node";
import { parse } from "yaml";
import { clusterRules, leaderElectionRules, policyRules, rbacFiles } from "../../src/api/rbac.js";
import { renderChart } from "../support/chart.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const read = (path: string) => readFile(`${root}${path}`, "utf8");

// The type argument names the kind the caller asked for by its `kind` string.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
function only<T extends KubernetesObject>(objects: KubernetesObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}, found ${found.length}`);
  return found[0] as T;
}

describe("the operator's RBAC, from the one list in operator/src/api/rbac.ts", function () {
  this.timeout(60_000);

  it("is what config/rbac grants, rule for rule", async function () {
    const role = parse(await read("config/rbac/role.yaml")) as V1ClusterRole;
    const leaderElection = parse(await read("config/rbac/leader_election_role.yaml")) as V1Role;
    assert.equal(role.kind, "ClusterRole");
    assert.deepEqual(role.rules, policyRules(clusterRules));
    assert.equal(leaderElection.kind, "Role");
    assert.deepEqual(leaderElection.rules, policyRules(leaderElectionRules));
  });

  it("is what the Helm chart grants, rule for rule", async function () {
    const objects = await renderChart();
    assert.deepEqual(only<V1ClusterRole>(objects, "ClusterRole").rules, policyRules(clusterRules));
    assert.deepEqual(only<V1Role>(objects, "Role").rules, policyRules(leaderElectionRules));
  });

  it("is rendered into each file as npm run generate writes it (a hand edit fails here)", async function () {
    for (const [path, render] of Object.entries(rbacFiles)) {
      assert.equal(await read(path), render(), `${path} differs from operator/src/api/rbac.ts: run npm run generate`);
    }
  });

  it("grants no wildcard, and no list or watch of Secrets", function () {
    for (const rule of [...clusterRules, ...leaderElectionRules]) {
      for (const field of [rule.apiGroups, rule.resources, rule.verbs]) assert.ok(!field.includes("*"), `no wildcard in ${JSON.stringify(rule)}`);
      if (rule.resources.includes("secrets")) assert.deepEqual(rule.verbs, ["get"]);
    }
  });
});
