import * as crypto from "node:crypto";
import { addressIn } from "../../config/net";
import type { TestbedNetwork } from "../../config/types";
import { testbedNetwork } from "../../config/vips";

/**
 * Names of the stack's kernel objects. Interface names are limited to 15 characters, so bridges and
 * veths carry a short hash of the stack name; namespaces carry the stack name itself. Machine hosts'
 * engine keeps its sockets in a short directory (a socket's path is at most 107 bytes) and its
 * containers' cgroups under a parent of its own.
 */
export function localNames(stack: string) {
  const tag = crypto.createHash("sha1").update(stack).digest("hex").slice(0, 5);
  return {
    namespacePrefix: `enos-${stack}-`,
    apiBridge: `eb${tag}a`,
    externalBridge: `eb${tag}x`,
    vethPrefix: `ev${tag}`,
    engineRunDir: `/run/enos-${tag}`,
    cgroupParent: `enos-${tag}`,
  };
}

/** Host addresses start at .10 of each subnet; the bridge is .1; the last five are Kolla's VIPs. */
export const FIRST_HOST_OFFSET = 10;

export function localNetwork(apiCidr: string, externalCidr: string): TestbedNetwork {
  const size = 2 ** (32 - Number(apiCidr.split("/")[1]));
  const extraIps = Array.from({ length: 5 }, (_, i) => addressIn(apiCidr, size - 6 + i));
  return testbedNetwork(
    extraIps,
    {
      cidr: externalCidr,
      start: addressIn(externalCidr, 100),
      end: addressIn(externalCidr, 200),
      gateway: addressIn(externalCidr, 1),
      dns: addressIn(externalCidr, 1),
    },
    ["eth0", "eth1"],
  );
}
