import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { prometheusRule, type AlertingRule, type PrometheusRule } from "../../src/resources/monitoring.js";
import { defaultedAIAssistant } from "../support/aiassistant.js";
import { chartDir, renderChart } from "../support/chart.js";
import { promtool } from "../support/tools.js";

interface Dashboard {
  templating: { list: { name: string }[] };
  panels: { title: string; targets?: { expr: string }[] }[];
}

/** What a dashboard query looks like once Grafana has put its variables in. */
function interpolate(expr: string, variables: readonly string[]): string {
  return expr.replaceAll(/\$\{?(\w+)\}?/g, (text, name: string) => {
    if (name === "__rate_interval") return "5m";
    return variables.includes(name) ? "demo" : text;
  });
}

const assistantRules = (aia = defaultedAIAssistant({ monitoring: { enabled: true } })): PrometheusRule => {
  const rule = prometheusRule(aia);
  assert.ok(rule);
  return rule;
};

describe("Prometheus rules and dashboard queries, checked by promtool", function () {
  this.timeout(60_000);
  let dir: string;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "aia-promtool-"));
    console.log(`    ${(await promtool("--version")).split("\n")[0] ?? ""}`);
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  /** `promtool check rules` on one rule file; resolves with its report. */
  async function checkRules(name: string, groups: unknown): Promise<string> {
    const file = join(dir, `${name}.yaml`);
    await writeFile(file, stringify({ groups }));
    return promtool("check", "rules", file);
  }

  it("accepts the chart's PrometheusRule for the operator", async function () {
    const rendered = await renderChart("--set", "prometheusRule.enabled=true", "--show-only", "templates/prometheusrule.yaml");
    const rule = rendered[0] as PrometheusRule | undefined;
    assert.equal(rule?.kind, "PrometheusRule");
    assert.match(await checkRules("chart", rule.spec.groups), /SUCCESS: 5 rules found/);
  });

  it("accepts the PrometheusRule the operator builds for an assistant", async function () {
    assert.match(await checkRules("assistant", assistantRules().spec.groups), /SUCCESS: 5 rules found/);
  });

  it("parses every query of the Grafana dashboard", async function () {
    const dashboard = JSON.parse(await readFile(join(chartDir, "dashboards/ai-assistant.json"), "utf8")) as Dashboard;
    const variables = dashboard.templating.list.map((v) => v.name);
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: interpolate(t.expr, variables) })));
    assert.ok(exprs.length >= 15, `${exprs.length} queries`);
    const rules = exprs.map(({ expr }, i) => ({ record: `dashboard:query_${i}`, expr }));
    const report = await checkRules("dashboard", [{ name: "dashboard", rules }]);
    assert.match(report, new RegExp(`SUCCESS: ${exprs.length} rules found`));
  });

  it("fires the assistant's alerts on its own series only, and none on healthy ones", async function () {
    const rule = assistantRules();
    const rulesFile = join(dir, "assistant-behaviour.yaml");
    await writeFile(rulesFile, stringify({ groups: rule.spec.groups }));
    const byName = new Map(rule.spec.groups.flatMap((g) => g.rules).map((r) => [r.alert, r]));
    const alert = (name: string, labels: Record<string, string>, values: Record<string, string>) => {
      const r = byName.get(name) as AlertingRule;
      const fill = (text: string) => text.replaceAll(/\{\{ (\$value|\$labels\.\w+)[^}]*\}\}/g, (_, key: string) => values[key] ?? "");
      return { exp_labels: { ...r.labels, ...labels }, exp_annotations: { summary: fill(r.annotations.summary), description: fill(r.annotations.description) } };
    };
    const api = 'namespace="team-a", service="demo", method="POST", route="/api/v1/chat"';
    const buckets = (selector: string, slow: number) => [
      { series: `http_request_duration_seconds_bucket{${selector}, le="1"}`, values: `0+${100 - slow}x30` },
      { series: `http_request_duration_seconds_bucket{${selector}, le="10"}`, values: `0+${100 - slow}x30` },
      { series: `http_request_duration_seconds_bucket{${selector}, le="30"}`, values: "0+100x30" },
      { series: `http_request_duration_seconds_bucket{${selector}, le="+Inf"}`, values: "0+100x30" },
    ];
    const pod = "demo-blue-7d9f8c6b5-x2x4z";
    const volume = 'namespace="team-a", persistentvolumeclaim="demo-data"';
    const failing = [
      // 10% of demo's chat requests fail; its failing readiness probes must not count.
      { series: `http_requests_total{${api}, status="200"}`, values: "0+90x30" },
      { series: `http_requests_total{${api}, status="500"}`, values: "0+10x30" },
      { series: 'http_requests_total{namespace="team-a", service="demo", method="GET", route="/readyz", status="503"}', values: "0+1000x30" },
      ...buckets(`${api}, status="200"`, 100),
      { series: `kube_pod_container_status_restarts_total{namespace="team-a", pod="${pod}", container="assistant"}`, values: "0+1x30" },
      { series: `kubelet_volume_stats_available_bytes{${volume}}`, values: "50x30" },
      { series: `kubelet_volume_stats_capacity_bytes{${volume}}`, values: "1000x30" },
      // Another assistant, whose name starts like demo's pods, fails everything: none of it is demo's.
      { series: 'http_requests_total{namespace="team-a", service="demo-blue", method="POST", route="/api/v1/chat", status="500"}', values: "0+100x30" },
      { series: 'kube_pod_container_status_restarts_total{namespace="team-a", pod="demo-blue-7d9f8c6b5-x2x4z-blue-5c7d-q8w9e", container="assistant"}', values: "0+5x30" },
      { series: 'up{namespace="team-b", service="demo"}', values: "1x30" },
    ];
    const healthy = [
      { series: `http_requests_total{${api}, status="200"}`, values: "0+99x30" },
      { series: `http_requests_total{${api}, status="500"}`, values: "0+1x30" },
      ...buckets(`${api}, status="200"`, 0),
      { series: `kube_pod_container_status_restarts_total{namespace="team-a", pod="${pod}", container="assistant"}`, values: "0x30" },
      { series: `kubelet_volume_stats_available_bytes{${volume}}`, values: "500x30" },
      { series: `kubelet_volume_stats_capacity_bytes{${volume}}`, values: "1000x30" },
      { series: 'up{namespace="team-a", service="demo"}', values: "1x30" },
    ];
    const at = "20m";
    const tests = {
      rule_files: [rulesFile],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: failing,
          alert_rule_test: [
            { eval_time: at, alertname: "AIAssistantHighErrorRate", exp_alerts: [alert("AIAssistantHighErrorRate", { namespace: "team-a", service: "demo" }, { $value: "10%" })] },
            { eval_time: at, alertname: "AIAssistantHighLatency", exp_alerts: [alert("AIAssistantHighLatency", { namespace: "team-a", service: "demo" }, { $value: "29.8s" })] },
            {
              eval_time: at,
              alertname: "AIAssistantPodRestarts",
              exp_alerts: [alert("AIAssistantPodRestarts", { namespace: "team-a", pod, container: "assistant" }, { $value: "15", "$labels.pod": pod })],
            },
            { eval_time: at, alertname: "AIAssistantDown", exp_alerts: [alert("AIAssistantDown", { namespace: "team-a", service: "demo" }, {})] },
            {
              eval_time: at,
              alertname: "AIAssistantVolumeAlmostFull",
              exp_alerts: [alert("AIAssistantVolumeAlmostFull", { namespace: "team-a", persistentvolumeclaim: "demo-data" }, { $value: "5%" })],
            },
          ],
        },
        {
          interval: "1m",
          input_series: healthy,
          alert_rule_test: [...byName.keys()].map((alertname) => ({ eval_time: at, alertname, exp_alerts: [] })),
        },
      ],
    };
    const testFile = join(dir, "assistant-behaviour.test.yaml");
    await writeFile(testFile, stringify(tests));
    assert.match(await promtool("test", "rules", testFile), /SUCCESS/);
  });
});
