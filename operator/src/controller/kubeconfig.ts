import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { createSecureContext } from "node:tls";
import * as k8s from "@kubernetes/client-node";

/**
 * A KubeConfig whose API clients share one TLS setup. For every request client-node reads the CA,
 * client certificate and key again (from files, in a pod) and builds a new https.Agent without
 * keep-alive, so each call would pay a full TLS handshake on both ends and a new secure context
 * (the PEM parsed again); at thousands of assistants that is most of the operator's and the API
 * server's CPU. Here the files are read once, the secure context is built once, and one keep-alive
 * agent carries every request. Bearer tokens still go in per-request headers, so token rotation
 * (a projected service-account token) is unaffected.
 */
export class KeepAliveKubeConfig extends k8s.KubeConfig {
  private agent: Agent | undefined;

  override loadFromDefault(...args: Parameters<k8s.KubeConfig["loadFromDefault"]>): void {
    super.loadFromDefault(...args);
    this.inlineCertificateFiles();
  }

  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getAgent();
    if (!(fresh instanceof Agent)) return;
    // The options (CA, client certificate) are fixed once the config is loaded.
    this.agent ??= new Agent({ ...fresh.options, secureContext: createSecureContext(fresh.options), keepAlive: true, maxSockets: 64 });
    context.setAgent(this.agent);
  }

  /** The certificate files' contents as data, so no request reads them again. */
  private inlineCertificateFiles(): void {
    const data = (file: string | undefined) => (file === undefined || file === "" ? undefined : readFileSync(file).toString("base64"));
    this.loadFromOptions({
      clusters: this.clusters.map(({ caFile, ...cluster }) => ({ ...cluster, caData: data(caFile) ?? cluster.caData })),
      users: this.users.map(({ certFile, keyFile, ...user }) => ({ ...user, certData: data(certFile) ?? user.certData, keyData: data(keyFile) ?? user.keyData })),
      contexts: this.contexts,
      currentContext: this.currentContext,
    });
  }
}
