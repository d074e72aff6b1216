import { isIP } from "node:net";
import type { V1Ingress, V1NetworkPolicy, V1NetworkPolicyEgressRule, V1NetworkPolicyIngressRule, V1NetworkPolicyPeer, V1Service } from "@kubernetes/client-node";
import type { AIAssistant } from "../api/types.generated.js";
import { otherColor, type Color } from "../api/color.js";
import { labelKeys } from "../api/labels.js";
import { colorSelector, ownedMetadata } from "./metadata.js";

export const stableServiceName = (aia: AIAssistant): string => aia.metadata.name ?? "";
export const previewServiceName = (aia: AIAssistant): string => `${aia.metadata.name ?? ""}-preview`;

/** The Service users call: it selects the active color only. */
export function stableService(aia: AIAssistant, active: Color): V1Service {
  const { type, port, annotations } = aia.spec.service;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(aia, stableServiceName(aia), annotations ? { annotations } : {}),
    spec: {
      type,
      selector: colorSelector(aia, active),
      ports: [{ name: "http", port, targetPort: "http", protocol: "TCP" }],
    },
  };
}

/** The Service for testing a new version before promotion: it selects the idle color. */
export function previewService(aia: AIAssistant, active: Color): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(aia, previewServiceName(aia)),
    spec: {
      type: "ClusterIP",
      selector: colorSelector(aia, otherColor(active)),
      ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
    },
  };
}

export function serviceEndpoint(aia: AIAssistant): string {
  const port = aia.spec.service.port;
  return `http://${stableServiceName(aia)}.${aia.metadata.namespace ?? ""}.svc${port === 80 ? "" : `:${port}`}`;
}

export const tlsSecretName = (aia: AIAssistant): string => aia.spec.ingress.tls?.secretName ?? `${aia.metadata.name ?? ""}-tls`;

/**
 * HTTPS only: the CRD requires TLS with an Ingress, cert-manager issues the certificate when a
 * ClusterIssuer is named, and the redirect annotation sends plain HTTP to HTTPS (ingress-nginx's;
 * other controllers take theirs through spec.ingress.annotations).
 */
export function ingress(aia: AIAssistant): V1Ingress | undefined {
  const spec = aia.spec.ingress;
  if (!spec.enabled || spec.host === undefined) return undefined;
  const annotations: Record<string, string> = {
    "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
    ...(spec.tls?.clusterIssuer ? { "cert-manager.io/cluster-issuer": spec.tls.clusterIssuer } : {}),
    ...spec.annotations,
  };
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: ownedMetadata(aia, stableServiceName(aia), { annotations }),
    spec: {
      ...(spec.className ? { ingressClassName: spec.className } : {}),
      tls: [{ hosts: [spec.host], secretName: tlsSecretName(aia) }],
      rules: [
        {
          host: spec.host,
          http: {
            paths: [{ path: spec.path, pathType: "Prefix", backend: { service: { name: stableServiceName(aia), port: { number: aia.spec.service.port } } } }],
          },
        },
      ],
    },
  };
}

/**
 * Where a URL's host points, as a NetworkPolicy peer. A Service name is what the pod's resolver
 * makes of it with the cluster's search domains: `svc` is a Service of the assistant's own
 * namespace, `svc.namespace` and `svc.namespace.svc[.cluster.local]` one of that namespace. A
 * policy sees traffic after the Service has translated it, so the port that matters is the pod's,
 * which the URL does not tell (a Service's port 80 often leads to 8000): the namespace is allowed on
 * any port. An IP literal is taken as the host itself, on its port. Longer names are outside the
 * cluster: egressCIDRs covers them.
 */
function egressPeerFor(url: string): V1NetworkPolicyEgressRule | undefined {
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80));
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const ipVersion = isIP(host);
  if (ipVersion !== 0) return { to: [{ ipBlock: { cidr: `${host}/${ipVersion === 4 ? "32" : "128"}` } }], ports: [{ protocol: "TCP", port }] };
  if (/^[a-z0-9-]+$/.test(host)) return { to: [{ podSelector: {} }] };
  const inCluster = /^[a-z0-9-]+\.([a-z0-9-]+)(\.svc(\.cluster\.local)?)?$/.exec(host);
  if (inCluster?.[1]) return { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": inCluster[1] } } }] };
  return undefined;
}

/** Every URL the assistant's pods (and its backup Job's, which the policy covers too) call out to, from the spec. */
function outboundURLs(aia: AIAssistant): string[] {
  const spec = aia.spec;
  const oidc = spec.auth.mode === "oidc" || spec.auth.mode === "apiKeyAndOIDC" ? spec.auth.oidc : undefined;
  return [
    ...(spec.model.provider === "openai" && spec.model.baseURL ? [spec.model.baseURL] : []),
    ...(spec.embeddings ? [spec.embeddings.baseURL] : []),
    ...(spec.skills ?? []).map((skill) => skill.endpoint.url),
    ...(spec.knowledge?.sources ?? []).flatMap((source) => (source.url ? [source.url] : [])),
    ...(spec.backup.enabled && spec.backup.s3?.endpoint ? [spec.backup.s3.endpoint] : []),
    // Tokens are checked against the issuer's keys, fetched again whenever a new key id turns up.
    ...(oidc ? [oidc.issuer, ...(oidc.jwksURI ? [oidc.jwksURI] : [])] : []),
  ];
}

/**
 * Default deny for the assistant's pods (both colors), then: in from its own namespace and the
 * configured peers, on the HTTP port only; out to DNS, to the in-cluster services and IPs its
 * spec names (model, embeddings, skills, knowledge URLs, the backup's S3 endpoint), to `egressTo`
 * peers and `egressCIDRs`.
 */
export function networkPolicy(aia: AIAssistant): V1NetworkPolicy | undefined {
  const spec = aia.spec.networkPolicy;
  if (!spec.enabled) return undefined;
  const dns: V1NetworkPolicyEgressRule = {
    to: [{ namespaceSelector: {} }],
    ports: [
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ],
  };
  const egress: V1NetworkPolicyEgressRule[] = [dns];
  for (const url of outboundURLs(aia)) {
    const rule = egressPeerFor(url);
    if (rule && !egress.some((existing) => JSON.stringify(existing) === JSON.stringify(rule))) egress.push(rule);
  }
  for (const peer of spec.egressTo ?? []) {
    const { port, ...selectors } = peer;
    egress.push({ to: [selectors], ...(port === undefined ? {} : { ports: [{ protocol: "TCP", port }] }) });
  }
  if ((spec.egressCIDRs ?? []).length > 0) egress.push({ to: (spec.egressCIDRs ?? []).map((cidr) => ({ ipBlock: { cidr } })) });
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: ownedMetadata(aia, stableServiceName(aia)),
    spec: {
      podSelector: { matchLabels: { [labelKeys.name]: "ai-assistant", [labelKeys.instance]: aia.metadata.name ?? "" } },
      policyTypes: ["Ingress", "Egress"],
      // The wire name (client-node's model calls it `_from`; see reconcile/wire-format.ts).
      ingress: [
        {
          from: [{ podSelector: {} }, ...((spec.ingressFrom ?? []) as V1NetworkPolicyPeer[])],
          ports: [{ protocol: "TCP", port: "http" }],
        } as V1NetworkPolicyIngressRule,
      ],
      egress,
    },
  };
}
