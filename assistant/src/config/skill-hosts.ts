/**
 * A URL's `host:port` as `skillHosts` lists it (the operator derives the list the same way): the
 * lower-cased host name, or a bracketed IPv6 literal, and the port, the scheme's default when unset.
 */
export function hostPortOf(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}
