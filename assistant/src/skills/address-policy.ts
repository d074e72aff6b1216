import { BlockList } from "node:net";

/**
 * Which resolved addresses a skill request may connect to. Three classes are refused:
 * cloud metadata services (credentials live there; never a skill, whatever the configuration),
 * addresses that are no single host (unspecified, multicast, broadcast, address translation that
 * hides the real target), and addresses inside the host, the cluster or the site (loopback, private,
 * carrier-grade NAT, link-local), which `allowPrivateNetworks` opens for allow-listed hosts.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match the IPv4 rules.
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

/** Why `address` (an IP literal) may not be connected to, or undefined when it may. */
export function refusedAddress(address: string, allowPrivateNetworks: boolean): AddressRefusal | undefined {
  const family = address.includes(":") ? "ipv6" : "ipv4";
  if (metadata.check(address, family)) return "metadata";
  if (notAHost.check(address, family)) return "not_a_host";
  if (!allowPrivateNetworks && internal.check(address, family)) return "private";
  return undefined;
}
