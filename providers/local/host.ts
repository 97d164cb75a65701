import * as pulumi from "@pulumi/pulumi";
import { KERNEL_PROBE, KernelFacts, parseKernelProbe } from "../../config/kernel";
import { addressIn, prefixLength } from "../../config/net";
import { sh } from "./shell";
import { FIRST_HOST_OFFSET } from "./plan";

/**
 * One host of the local testbed: a network namespace with an API and an external interface on the
 * stack's two bridges, and its own sshd. Its address comes from a slot claimed on disk, so a host
 * keeps its address whatever other hosts come and go, and a create that was interrupted is redone
 * in place instead of leaving a twin behind.
 * (Dynamic providers are serialized: node modules are required inside the functions.)
 */
export interface LocalHostInputs {
  alias: string;
  namespace: string;
  /** Directory for this stack's local hosts (slots, host keys, sshd files). */
  dir: string;
  apiCidr: string;
  externalCidr: string;
  apiBridge: string;
  externalBridge: string;
  vethPrefix: string;
  authorizedKey: string;
}

export interface LocalHostOutputs extends LocalHostInputs {
  slot: number;
  address: string;
  externalAddress: string;
  hostKey: string;
  kernel: KernelFacts;
}

/** Lowest free slot, claimed atomically (O_EXCL), or the one this alias already holds. */
function claimSlot(dir: string, alias: string): number {
  const fs: typeof import("node:fs") = require("node:fs");
  const path: typeof import("node:path") = require("node:path");
  const slots = path.join(dir, "slots");
  fs.mkdirSync(slots, { recursive: true });
  for (const file of fs.readdirSync(slots)) {
    if (fs.readFileSync(path.join(slots, file), "utf8") === alias) return Number(file);
  }
  for (let slot = 0; ; slot++) {
    try {
      fs.writeFileSync(path.join(slots, String(slot)), alias, { flag: "wx" });
      return slot;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

/** Removes whatever exists of this host: its processes, namespace (its veths go with it), files, slot. */
async function teardown(props: { alias: string; namespace: string; dir: string }, releaseSlot: boolean) {
  const fs: typeof import("node:fs") = require("node:fs");
  const path: typeof import("node:path") = require("node:path");
  await sh(`
    if ip netns pids '${props.namespace}' >/dev/null 2>&1; then
      pids=$(ip netns pids '${props.namespace}')
      if [ -n "$pids" ]; then
        kill $pids 2>/dev/null || true
        for _ in $(seq 50); do [ -z "$(ip netns pids '${props.namespace}')" ] && break; sleep 0.1; done
      fi
      ip netns del '${props.namespace}'
    fi`);
  fs.rmSync(path.join(props.dir, "hosts", props.alias), { recursive: true, force: true });
  if (releaseSlot) {
    const slots = path.join(props.dir, "slots");
    for (const file of fs.existsSync(slots) ? fs.readdirSync(slots) : []) {
      if (fs.readFileSync(path.join(slots, file), "utf8") === props.alias) fs.rmSync(path.join(slots, file));
    }
  }
}

async function waitForSsh(address: string, alias: string) {
  const net: typeof import("node:net") = require("node:net");
  for (let attempt = 0; attempt < 50; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: address, port: 22, timeout: 1000 }, () => (socket.destroy(), resolve(true)));
      socket.on("error", () => resolve(false));
      socket.on("timeout", () => (socket.destroy(), resolve(false)));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd of ${alias} does not answer on ${address}:22`);
}

const hostProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: LocalHostInputs) {
    const fs: typeof import("node:fs") = require("node:fs");
    const path: typeof import("node:path") = require("node:path");

    const slot = claimSlot(inputs.dir, inputs.alias);
    await teardown(inputs, false);
    const address = addressIn(inputs.apiCidr, FIRST_HOST_OFFSET + slot);
    const externalAddress = addressIn(inputs.externalCidr, FIRST_HOST_OFFSET + slot);
    const ns = inputs.namespace;
    const vethApi = `${inputs.vethPrefix}${slot}a`;
    const vethExternal = `${inputs.vethPrefix}${slot}x`;
    const hostDir = path.join(inputs.dir, "hosts", inputs.alias);
    fs.mkdirSync(hostDir, { recursive: true });
    fs.writeFileSync(path.join(hostDir, "authorized_keys"), `${inputs.authorizedKey}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(hostDir, "sshd_config"), [
      `ListenAddress ${address}`,
      `HostKey ${hostDir}/ssh_host_ed25519_key`,
      `PidFile ${hostDir}/sshd.pid`,
      `AuthorizedKeysFile ${hostDir}/authorized_keys`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "AcceptEnv LANG LC_*",
      "Subsystem sftp internal-sftp",
      "",
    ].join("\n"));
    // A leftover root-side veth of an interrupted create would block the name.
    await sh(`
      ip link del '${vethApi}' 2>/dev/null || true
      ip link del '${vethExternal}' 2>/dev/null || true
      ssh-keygen -q -t ed25519 -N '' -C '${inputs.alias}' -f '${hostDir}/ssh_host_ed25519_key'
      ip netns add '${ns}'
      ip link add '${vethApi}' type veth peer name eth0 netns '${ns}'
      ip link add '${vethExternal}' type veth peer name eth1 netns '${ns}'
      ip link set '${vethApi}' master '${inputs.apiBridge}' up
      ip link set '${vethExternal}' master '${inputs.externalBridge}' up
      ip -n '${ns}' -batch - <<'BATCH'
link set lo up
link set eth0 up
link set eth1 up
addr add ${address}/${prefixLength(inputs.apiCidr)} dev eth0
addr add ${externalAddress}/${prefixLength(inputs.externalCidr)} dev eth1
route add default via ${addressIn(inputs.apiCidr, 1)}
BATCH
      mkdir -p /run/sshd
      ip netns exec '${ns}' "$(command -v sshd || echo /usr/sbin/sshd)" -f '${hostDir}/sshd_config' -E '${hostDir}/sshd.log'`);
    const kernel = parseKernelProbe(await sh(`ip netns exec '${ns}' bash -s <<'PROBE'\n${KERNEL_PROBE}PROBE`));
    await waitForSsh(address, inputs.alias);
    const hostKey = fs.readFileSync(path.join(hostDir, "ssh_host_ed25519_key.pub"), "utf8").trim();
    const outs: LocalHostOutputs = { ...inputs, slot, address, externalAddress, hostKey, kernel };
    return { id: ns, outs };
  },

  async diff(_id: string, olds: LocalHostOutputs, news: LocalHostInputs) {
    const replaces = (Object.keys(news) as (keyof LocalHostInputs)[]).filter((k) => olds[k] !== news[k]);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
  },

  async delete(_id: string, props: LocalHostOutputs) {
    await teardown(props, true);
  },
};

type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

export class LocalHost extends pulumi.dynamic.Resource {
  public readonly address!: pulumi.Output<string>;
  public readonly externalAddress!: pulumi.Output<string>;
  public readonly hostKey!: pulumi.Output<string>;
  public readonly kernel!: pulumi.Output<KernelFacts>;

  constructor(name: string, args: Inputs<LocalHostInputs>, opts?: pulumi.CustomResourceOptions) {
    super(hostProvider, name, { ...args, slot: undefined, address: undefined, externalAddress: undefined, hostKey: undefined, kernel: undefined }, opts, "enos", "LocalHost");
  }
}
