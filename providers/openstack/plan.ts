import { intToIp, ipToInt, networkOf } from "../../config/net";

/** The external pool Kolla's public network allocates from: the subnet's addresses after its allocation pool. */
export function externalPool(cidr: string, poolEnd: string, gateway: string, dns: string) {
  const { network, size } = networkOf(cidr);
  const broadcast = network + size - 1;
  const start = ipToInt(poolEnd) + 1;
  const end = broadcast - 1 === ipToInt(gateway) ? broadcast - 2 : broadcast - 1;
  if (end - start < 1) {
    throw new Error(
      `subnet ${cidr} has no addresses after its allocation pool (ending ${poolEnd}) for Kolla's external pool; ` +
        "with configure_network, shrink provider.allocation_pool or widen provider.subnet.cidr; without it, name in provider.subnet a subnet " +
        "with free addresses after its allocation pool (the cloud's admin can shrink the pool)",
    );
  }
  return { start: intToIp(start), end: intToIp(end), cidr, gateway, dns };
}

/** Ingress the experiment needs: SSH from anywhere, ICMP, and everything between hosts of the subnet. */
export function securityRules<T>(cidr: T) {
  return [
    { name: "ssh", protocol: "tcp", portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: "0.0.0.0/0" },
    { name: "icmp", protocol: "icmp", remoteIpPrefix: "0.0.0.0/0" },
    { name: "tcp-subnet", protocol: "tcp", portRangeMin: 1, portRangeMax: 65535, remoteIpPrefix: cidr },
    { name: "udp-subnet", protocol: "udp", portRangeMin: 1, portRangeMax: 65535, remoteIpPrefix: cidr },
  ];
}
