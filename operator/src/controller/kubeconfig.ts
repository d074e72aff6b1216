import { Agent } from "node:https";
import * as k8s from "@kubernetes/client-node";

/**
 * A KubeConfig whose API clients reuse TLS connections. client-node builds a new https.Agent
 * without keep-alive for every request, so each call pays a full TLS handshake on both ends;
 * at a thousand assistants that is most of the operator's and the API server's CPU. The
 * agent's options (CA, client certificate) are fixed once the config is loaded, so one
 * keep-alive agent with the same options serves every request; bearer tokens still go in
 * per-request headers, so token rotation is unaffected.
 */
export class KeepAliveKubeConfig extends k8s.KubeConfig {
  private agent: Agent | undefined;

  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getAgent();
    if (!(fresh instanceof Agent)) return;
    this.agent ??= new Agent({ ...fresh.options, keepAlive: true, maxSockets: 64 });
    context.setAgent(this.agent);
  }
}
