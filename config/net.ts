/** IPv4 arithmetic for testbeds that hand out addresses themselves. */

export function ipToInt(ip: string): number {
  return ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join(".");
}

/** The address `offset` places after the network address of `cidr`, refusing one outside it. */
export function addressIn(cidr: string, offset: number): string {
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  if (offset <= 0 || offset >= size - 1) throw new Error(`${cidr} has no host address at offset ${offset}`);
  const network = ipToInt(base) & ~(size - 1);
  return intToIp(network + offset);
}

export function prefixLength(cidr: string): number {
  return Number(cidr.split("/")[1]);
}
