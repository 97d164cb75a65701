/** IPv4 arithmetic for testbeds that hand out addresses themselves. */

export function ipToInt(ip: string): number {
  return ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join(".");
}

/** The network address of `cidr` (unsigned: `&` alone would turn 128.0.0.0 and above negative) and its size. */
export function networkOf(cidr: string): { network: number; size: number } {
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  return { network: (ipToInt(base) & ~(size - 1)) >>> 0, size };
}

/** The address `offset` places after the network address of `cidr`, refusing one outside it. */
export function addressIn(cidr: string, offset: number): string {
  const { network, size } = networkOf(cidr);
  if (offset <= 0 || offset >= size - 1) throw new Error(`${cidr} has no host address at offset ${offset}`);
  return intToIp(network + offset);
}

export function prefixLength(cidr: string): number {
  return Number(cidr.split("/")[1]);
}

/** A jump host as ssh's ProxyJump names it, `[user@]address[:port]`; undefined when it is not one. */
export function parseJump(jump: string): { user?: string; address: string; port: number } | undefined {
  const match = /^(?:([^@]+)@)?([^:@]+)(?::(\d+))?$/.exec(jump);
  return match ? { user: match[1], address: match[2], port: match[3] ? Number(match[3]) : 22 } : undefined;
}
