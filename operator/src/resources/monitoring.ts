import type { KubernetesObject } from "@kubernetes/client-node";
import type { AIAssistant } from "../api/types.generated.js";
import { instanceLabels, ownedMetadata } from "./metadata.js";
import { stableServiceName } from "./network.js";
import { dataClaimName } from "./storage.js";
import { deploymentName } from "./workload.js";

/** The Prometheus Operator's API (monitoring.coreos.com/v1); its CRDs are not always installed. */
export const monitoringAPIVersion = "monitoring.coreos.com/v1";

export interface ServiceMonitor extends KubernetesObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: { matchNames: string[] };
    endpoints: {
      port: string;
      path: string;
      interval: string;
      relabelings: { sourceLabels: string[]; regex: string; action: "keep" }[];
    }[];
  };
}

export interface AlertingRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string };
}

export interface PrometheusRule extends KubernetesObject {
  spec: { groups: { name: string; rules: AlertingRule[] }[] };
}

/** Thresholds of the assistant's alerts. */
export const alertThresholds = {
  errorRatio: 0.05,
  p99LatencySeconds: 10,
  restartsIn15m: 2,
  volumeAvailableRatio: 0.1,
} as const;

/** Routes that are not API traffic: probes and scrapes would dilute error ratios and latencies. */
const nonAPIRoutes = "/healthz|/readyz|/metrics";

/** A regex that matches `text` literally; object names hold only `[a-z0-9.-]`, so only the dot is special. */
const literal = (text: string): string => text.replaceAll(".", "[.]");

function metadata(aia: AIAssistant) {
  const labels = aia.spec.monitoring.labels;
  return ownedMetadata(aia, aia.metadata.name ?? "", labels ? { labels } : {});
}

/**
 * Scrapes the stable Service's endpoints (the pods of the active color) on `http` at /metrics.
 * The preview Service carries the same labels, so the Service name picks the stable one.
 */
export function serviceMonitor(aia: AIAssistant): ServiceMonitor | undefined {
  const { monitoring } = aia.spec;
  if (!monitoring.enabled) return undefined;
  return {
    apiVersion: monitoringAPIVersion,
    kind: "ServiceMonitor",
    metadata: metadata(aia),
    spec: {
      selector: { matchLabels: instanceLabels(aia) },
      namespaceSelector: { matchNames: [aia.metadata.namespace ?? ""] },
      endpoints: [
        {
          port: "http",
          path: "/metrics",
          interval: monitoring.interval,
          relabelings: [{ sourceLabels: ["__meta_kubernetes_service_name"], regex: literal(stableServiceName(aia)), action: "keep" }],
        },
      ],
    },
  };
}

/**
 * The assistant's alerts. Its own series carry the `namespace` and `service` labels the
 * ServiceMonitor gives them; kube-state-metrics and the kubelet name its pods and its volume.
 */
export function prometheusRule(aia: AIAssistant): PrometheusRule | undefined {
  if (!aia.spec.monitoring.enabled) return undefined;
  const name = aia.metadata.name ?? "";
  const namespace = aia.metadata.namespace ?? "";
  const where = `${name} in ${namespace}`;
  const service = `namespace="${namespace}", service="${stableServiceName(aia)}"`;
  const api = `${service}, route!~"${nonAPIRoutes}"`;
  // Pods of a color's ReplicaSet are named <deployment>-<template hash>-<5 characters>.
  const pods = `namespace="${namespace}", container="assistant", pod=~"(${literal(deploymentName(aia, "blue"))}|${literal(deploymentName(aia, "green"))})-[a-z0-9]+-[a-z0-9]{5}"`;
  const labels = (severity: "critical" | "warning") => ({ severity, aiassistant: name });
  const { errorRatio, p99LatencySeconds, restartsIn15m, volumeAvailableRatio } = alertThresholds;

  const rules: AlertingRule[] = [
    {
      alert: "AIAssistantHighErrorRate",
      expr: `sum by (namespace, service) (rate(http_requests_total{${api}, status=~"5.."}[5m])) / sum by (namespace, service) (rate(http_requests_total{${api}}[5m])) > ${errorRatio}`,
      for: "2m",
      labels: labels("critical"),
      annotations: {
        summary: `AIAssistant ${where} answers more than ${errorRatio * 100}% of requests with a server error.`,
        description: `{{ $value | humanizePercentage }} of the API requests to ${where} failed with a 5xx status over the last 5 minutes; the assistant's logs carry each failed request.`,
      },
    },
    {
      alert: "AIAssistantHighLatency",
      expr: `histogram_quantile(0.99, sum by (namespace, service, le) (rate(http_request_duration_seconds_bucket{${api}}[5m]))) > ${p99LatencySeconds}`,
      for: "10m",
      labels: labels("warning"),
      annotations: {
        summary: `AIAssistant ${where} is slow: the 99th percentile of request latency is above ${p99LatencySeconds}s.`,
        description: `The 99th percentile of API request duration of ${where} is {{ $value | humanizeDuration }}; model latency (assistant_model_request_duration_seconds) shows whether the model is the cause.`,
      },
    },
    {
      alert: "AIAssistantPodRestarts",
      expr: `increase(kube_pod_container_status_restarts_total{${pods}}[15m]) > ${restartsIn15m}`,
      for: "5m",
      labels: labels("warning"),
      annotations: {
        summary: `A pod of AIAssistant ${where} keeps restarting.`,
        description: `Pod {{ $labels.pod }} of ${where} restarted {{ $value | humanize }} times in 15 minutes; kubectl describe pod and its previous logs say why.`,
      },
    },
  ];
  if (aia.spec.replicas > 0 || aia.spec.autoscaling) {
    rules.push({
      alert: "AIAssistantDown",
      // absent() covers a Service without endpoints; the sum, endpoints whose scrapes fail.
      expr: `sum by (namespace, service) (up{${service}}) == 0 or absent(up{${service}})`,
      for: "5m",
      labels: labels("critical"),
      annotations: {
        summary: `No pod of AIAssistant ${where} is up.`,
        description: `Prometheus has scraped no healthy pod behind the Service ${stableServiceName(aia)} for 5 minutes; kubectl describe aia ${name} -n ${namespace} says why.`,
      },
    });
  }
  if (aia.spec.storage.mode === "embedded") {
    const volume = `namespace="${namespace}", persistentvolumeclaim="${dataClaimName(aia)}"`;
    rules.push({
      alert: "AIAssistantVolumeAlmostFull",
      expr: `kubelet_volume_stats_available_bytes{${volume}} / kubelet_volume_stats_capacity_bytes{${volume}} < ${volumeAvailableRatio}`,
      for: "5m",
      labels: labels("warning"),
      annotations: {
        summary: `The data volume of AIAssistant ${where} is almost full.`,
        description: `Only {{ $value | humanizePercentage }} of ${dataClaimName(aia)} is free; raise spec.storage.size (if its StorageClass allows expansion) or move to storage.mode postgres.`,
      },
    });
  }
  return {
    apiVersion: monitoringAPIVersion,
    kind: "PrometheusRule",
    metadata: metadata(aia),
    spec: { groups: [{ name: `aiassistant.${namespace}.${name}`, rules }] },
  };
}
