import * as pulumi from "@pulumi/pulumi";
import { removeIfEmpty } from "../../config/files";
import { addressIn, prefixLength } from "../../config/net";
import { replaceOnChange } from "./host";
import { sh } from "./shell";

/**
 * The stack's two bridges (API and external networks) in the root namespace, with the first address
 * of each subnet, so that this machine reaches every host. Deleting them removes the stack's local
 * directory too: by then every host, which depends on the bridges, is gone.
 */
export interface LocalBridgesInputs {
  apiBridge: string;
  externalBridge: string;
  apiCidr: string;
  externalCidr: string;
  dir: string;
}

const bridgesProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: LocalBridgesInputs) {
    const bridge = (name: string, cidr: string) => `
      ip link show '${name}' >/dev/null 2>&1 || ip link add '${name}' type bridge
      ip addr replace ${addressIn(cidr, 1)}/${prefixLength(cidr)} dev '${name}'
      ip link set '${name}' up`;
    await sh(bridge(inputs.apiBridge, inputs.apiCidr) + bridge(inputs.externalBridge, inputs.externalCidr));
    return { id: inputs.apiBridge, outs: inputs };
  },

  async diff(_id: string, olds: LocalBridgesInputs, news: LocalBridgesInputs) {
    return replaceOnChange(olds, news);
  },

  async delete(_id: string, props: LocalBridgesInputs) {
    const fs: typeof import("node:fs") = require("node:fs");
    await sh(
      `ip link del '${props.apiBridge}' 2>/dev/null || true; ip link del '${props.externalBridge}' 2>/dev/null || true`,
    );
    fs.rmSync(props.dir, { recursive: true, force: true });
    removeIfEmpty(require("node:path").dirname(props.dir));
  },
};

export class LocalBridges extends pulumi.dynamic.Resource {
  constructor(name: string, args: LocalBridgesInputs, opts?: pulumi.CustomResourceOptions) {
    super(bridgesProvider, name, args, opts, "enos", "LocalBridges");
  }
}
