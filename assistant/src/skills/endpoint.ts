import { lookup } from "node:dns";
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { readBounded } from "../bounded-body.js";
import type { SkillMethod } from "../config/schema.js";
import { hostPortOf } from "../config/skill-hosts.js";
import { deadline } from "../deadline.js";
import { refusedAddress, type AddressRefusal } from "./address-policy.js";
import { SkillError } from "./errors.js";

/** Where skill requests may go and how much may come back. */
export interface EndpointPolicy {
  /** `host:port` entries of `skillHosts`. */
  allowedHosts: ReadonlySet<string>;
  allowPrivateNetworks: boolean;
  maxResponseBytes: number;
}

export interface EndpointRequest {
  url: URL;
  method: SkillMethod;
  headers: Record<string, string>;
  body?: string;
}

export interface EndpointResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const MAX_REDIRECTS = 3;

const REFUSALS: Record<AddressRefusal, string> = {
  metadata: "a cloud metadata address",
  not_a_host: "not a single host's address",
  private: "a loopback, private or link-local address (skillOptions.allowPrivateNetworks is off)",
};

function blocked(subject: string, refusal: AddressRefusal): SkillError {
  return new SkillError("skill_blocked", `${subject} ${REFUSALS[refusal]}`);
}

/**
 * Resolves like the platform does, then refuses the connection when any resolved address is
 * refused. The socket connects to exactly the addresses checked here, so a DNS answer that changes
 * between a check and the connection (rebinding) cannot slip through.
 */
function guardedLookup(allowPrivateNetworks: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error !== null) {
        callback(error, "");
        return;
      }
      const refusal = addresses.map((entry) => refusedAddress(entry.address, allowPrivateNetworks)).find((found) => found !== undefined);
      const [first] = addresses;
      if (refusal !== undefined) callback(blocked(`${hostname} resolves to`, refusal), "");
      else if (options.all === true) callback(null, addresses);
      else if (first === undefined) callback(new SkillError("skill_unreachable", `${hostname} has no address`), "");
      else callback(null, first.address, first.family);
    });
  };
}

/** The allow-list first, then an IP literal's class; host names are checked as they resolve. */
function checkTarget(url: URL, policy: EndpointPolicy): void {
  const host = hostPortOf(url);
  if (!policy.allowedHosts.has(host)) throw new SkillError("skill_blocked", `${host} is not in skillHosts`);
  const literal = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const refusal = isIP(literal) === 0 ? undefined : refusedAddress(literal, policy.allowPrivateNetworks);
  if (refusal !== undefined) throw blocked(`${host} is`, refusal);
}

async function send(request: EndpointRequest, policy: EndpointPolicy, signal: AbortSignal): Promise<EndpointResponse> {
  checkTarget(request.url, policy);
  const transport = request.url.protocol === "https:" ? httpsRequest : httpRequest;
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const outgoing = transport(request.url, { method: request.method, headers: request.headers, signal, lookup: guardedLookup(policy.allowPrivateNetworks) }, resolve);
    outgoing.once("error", reject);
    outgoing.end(request.body);
  });
  const tooLarge = () => new SkillError("skill_response_too_large", `the answer exceeds ${policy.maxResponseBytes} bytes`);
  const body = await readBounded(response, policy.maxResponseBytes, tooLarge);
  return { status: response.statusCode ?? 0, headers: response.headers, body: body.toString("utf8") };
}

/** Follows a redirect only within the same origin; a 303 repeats as a GET without the body. */
function redirected(request: EndpointRequest, status: number, target: URL): EndpointRequest {
  if (target.origin !== request.url.origin) throw new SkillError("skill_blocked", `redirect to another host (${hostPortOf(target)}) refused`);
  if (status !== 303) return { ...request, url: target };
  const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => name !== "content-type"));
  return { url: target, method: "GET", headers };
}

/**
 * One skill request under the policy: allow-listed hosts only, checked addresses, no redirect to
 * another host, at most `maxResponseBytes` read, and an answer complete within `timeoutMs`.
 * Rejects with a SkillError, or with the abort when `signal` (the caller going away) fires.
 */
export async function callEndpoint(request: EndpointRequest, policy: EndpointPolicy, timeoutMs: number, signal: AbortSignal): Promise<EndpointResponse> {
  const answer = deadline(signal, timeoutMs);
  try {
    let current = request;
    for (let redirects = 0; ; redirects += 1) {
      const response = await send(current, policy, answer.signal);
      const location = response.headers.location;
      if (response.status < 300 || response.status > 399 || location === undefined) return response;
      if (redirects === MAX_REDIRECTS) throw new SkillError("skill_failed", `more than ${MAX_REDIRECTS} redirects`);
      current = redirected(current, response.status, new URL(location, current.url));
    }
  } catch (error) {
    if (error instanceof SkillError) throw error;
    if (signal.aborted) throw error;
    if (answer.expired()) throw new SkillError("skill_timeout", `no complete answer within ${timeoutMs} ms`, { cause: error });
    throw new SkillError("skill_unreachable", `cannot reach the skill: ${(error as Error).message}`, { cause: error });
  } finally {
    answer.clear();
  }
}
