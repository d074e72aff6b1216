import { BlockList } from "node:net";

/**
 * Which resolved addresses a skill request may connect to. Three classes are refused:
 * cloud metadata services (credentials live there; never a skill, whatever the configuration),
 * addresses that are no single host (unspecified, multicast, broadcast, address translation that
 * hides the real target), and addresses inside the host, the cluster or the site (loopback, private,
 * carrier-grade NAT, link-local), which `allowPrivateNetworks` opens for allow-listed hosts.
 * An IPv6 address that carries an IPv4 one (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, translated
 * ::ffff:0:a.b.c.d, ISATAP …:5efe:a.b.c.d) is judged by the IPv4 address as well; the prefixes that
 * relay to an embedded address (NAT64, 6to4, Teredo) are no single host.
 */
export type AddressRefusal = "metadata" | "not_a_host" | "private";

function blockList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.split("/");
    const family = address.includes(":") ? "ipv6" : "ipv4";
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

const metadata = blockList([
  "169.254.169.254", // AWS, GCP, Azure, OpenStack, DigitalOcean
  "169.254.170.2", // AWS ECS task credentials
  "100.100.100.200", // Alibaba Cloud
  "fd00:ec2::254", // AWS over IPv6
]);

const notAHost = blockList([
  "0.0.0.0/8",
  "224.0.0.0/4",
  "240.0.0.0/4",
  "::/128",
  "ff00::/8",
  "64:ff9b::/96",
  "64:ff9b:1::/48",
  "2002::/16",
  "2001::/32",
]);

const internal = blockList([
  "127.0.0.0/8",
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "169.254.0.0/16",
  "198.18.0.0/15",
  "::1/128",
  "fc00::/7",
  "fe80::/10",
]);

/** The eight 16-bit groups of an IPv6 address (valid, as isIPv6 says), a trailing dotted quad included. */
function ipv6Groups(address: string): number[] {
  const text = (address.split("%")[0] ?? "").replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_match, ...octets: string[]) => {
    const [a = 0, b = 0, c = 0, d = 0] = octets.slice(0, 4).map(Number);
    return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  });
  const groupsOf = (part: string | undefined): number[] => (part === undefined || part === "" ? [] : part.split(":").map((group) => parseInt(group, 16)));
  const [head, tail] = text.split("::");
  const left = groupsOf(head);
  const right = groupsOf(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** The IPv4 address inside an IPv6 one, in the forms that carry one to a host. */
function embeddedIPv4(address: string): string | undefined {
  const [a, b, c, d, e, f, g = 0, h = 0] = ipv6Groups(address);
  const ipv4 = `${g >> 8}.${g & 0xff}.${h >> 8}.${h & 0xff}`;
  const zeroPrefix = a === 0 && b === 0 && c === 0 && d === 0;
  // Compatible (::a.b.c.d, but not :: or ::1, which are IPv6's own) and mapped (::ffff:a.b.c.d).
  if (zeroPrefix && e === 0 && ((f === 0 && g !== 0) || f === 0xffff)) return ipv4;
  // Translated (::ffff:0:a.b.c.d).
  if (zeroPrefix && e === 0xffff && f === 0) return ipv4;
  // ISATAP interface identifiers.
  if ((e === 0 || e === 0x200) && f === 0x5efe) return ipv4;
  return undefined;
}

function refusedBy(address: string, family: "ipv4" | "ipv6", allowPrivateNetworks: boolean): AddressRefusal | undefined {
  if (metadata.check(address, family)) return "metadata";
  if (notAHost.check(address, family)) return "not_a_host";
  if (!allowPrivateNetworks && internal.check(address, family)) return "private";
  return undefined;
}

/** Why `address` (an IP literal) may not be connected to, or undefined when it may. */
export function refusedAddress(address: string, allowPrivateNetworks: boolean): AddressRefusal | undefined {
  if (!address.includes(":")) return refusedBy(address, "ipv4", allowPrivateNetworks);
  const embedded = embeddedIPv4(address);
  return refusedBy(address, "ipv6", allowPrivateNetworks) ?? (embedded === undefined ? undefined : refusedBy(embedded, "ipv4", allowPrivateNetworks));
}
