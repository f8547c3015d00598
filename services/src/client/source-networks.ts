/**
 * MTLS_LOCAL_ALLOW_FROM: the networks whose hosts may use the client's local tunnel. Anyone who
 * reaches the tunnel's port calls as this client, so a tunnel listening beyond loopback (as
 * MtlsWorkload's tunnels do, on the workload's private network) serves only connections whose
 * source address is inside one of these networks; any other connection is reset before a byte
 * of it is read and before any mTLS connection is made for it.
 *
 * The value is comma-separated CIDRs (`172.16.3.16/28`, `fd00::/64`) or single addresses.
 */
import { BlockList, isIP } from "node:net";

export interface SourceNetworks {
  /** The networks as `address/prefix` (a single address gets /32 or /128), for logs. */
  readonly cidrs: readonly string[];
  /** Whether a connection from `address` (as `socket.remoteAddress` gives it) may use the tunnel. */
  allows(address: string | undefined): boolean;
}

/** `::ffff:10.1.2.3`, how a dual-stack listener reports an IPv4 peer, is that IPv4 peer. */
function unmapped(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** The networks `raw` lists, or the sentence saying which entry is not a network. */
export function sourceNetworksOrProblem(name: string, raw: string): SourceNetworks | string {
  const list = new BlockList();
  const cidrs: string[] = [];
  const entries = raw.split(",").map((entry) => entry.trim());
  for (const entry of entries) {
    const [address = "", prefixText, extra] = entry.split("/");
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? bits : Number(prefixText);
    const validPrefix =
      prefixText === undefined || (/^\d{1,3}$/.test(prefixText) && prefix >= 0 && prefix <= bits);
    if (family === 0 || !validPrefix || extra !== undefined) {
      return (
        `${name}=${JSON.stringify(raw)} has ${JSON.stringify(entry)}, which is not a network: ` +
        "expected comma-separated CIDRs or addresses, e.g. 172.16.3.16/28"
      );
    }
    list.addSubnet(address, prefix, family === 4 ? "ipv4" : "ipv6");
    cidrs.push(`${address}/${prefix}`);
  }
  return {
    cidrs,
    allows(address) {
      if (address === undefined) return false;
      const peer = unmapped(address);
      const family = isIP(peer);
      return family !== 0 && list.check(peer, family === 4 ? "ipv4" : "ipv6");
    },
  };
}
