import * as pulumi from "@pulumi/pulumi";
import { KERNEL_PROBE, type KernelFacts, parseKernelProbe } from "../../config/kernel";
import { addressIn, prefixLength } from "../../config/net";
import { FIRST_HOST_OFFSET } from "./plan";
import { sh } from "./shell";

/**
 * One host of the local testbed: a network namespace with an API and an external interface on the
 * stack's two bridges, and its own sshd. Its address comes from a slot claimed on disk, so a host
 * keeps its address whatever other hosts come and go, and a create that was interrupted is redone
 * in place instead of leaving a twin behind.
 * (A dynamic provider's code: ARCHITECTURE.md, "The serialization rule".)
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
export function claimSlot(dir: string, alias: string): number {
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

/** The slot this alias holds, if any (as its file's name). */
export function slotOf(dir: string, alias: string): string | undefined {
  const fs: typeof import("node:fs") = require("node:fs");
  const path: typeof import("node:path") = require("node:path");
  const slots = path.join(dir, "slots");
  return (fs.existsSync(slots) ? fs.readdirSync(slots) : []).find(
    (file) => fs.readFileSync(path.join(slots, file), "utf8") === alias,
  );
}

/** The root-side ends of a host's API and external veths. */
export const vethsOf = (prefix: string, slot: number | string): [string, string] => [
  `${prefix}${slot}a`,
  `${prefix}${slot}x`,
];

/** Deletes the host's root-side veths that exist (synchronously; the kernel frees a dead namespace's later). */
export const deleteVethsScript = (veths: string[]): string => `
    for veth in ${veths.map((v) => `'${v}'`).join(" ")}; do
      if ip link show "$veth" >/dev/null 2>&1; then ip link del "$veth"; fi
    done`;

/** A host's files under the stack's local directory go, and its slot too when asked: the last step of a delete. */
export function forgetHost(dir: string, alias: string, releaseSlot: boolean): void {
  const fs: typeof import("node:fs") = require("node:fs");
  const path: typeof import("node:path") = require("node:path");
  const slot = slotOf(dir, alias);
  fs.rmSync(path.join(dir, "hosts", alias), { recursive: true, force: true });
  if (releaseSlot && slot !== undefined) fs.rmSync(path.join(dir, "slots", slot));
}

/** Veth names and addresses of the host holding a slot (eth0 inside on the API bridge, eth1 on the external). */
export function hostNetwork(inputs: { apiCidr: string; externalCidr: string; vethPrefix: string }, slot: number) {
  const [vethApi, vethExternal] = vethsOf(inputs.vethPrefix, slot);
  return {
    vethApi,
    vethExternal,
    address: addressIn(inputs.apiCidr, FIRST_HOST_OFFSET + slot),
    externalAddress: addressIn(inputs.externalCidr, FIRST_HOST_OFFSET + slot),
  };
}

/**
 * Joins a network namespace (`netns`: a name, or a pid) to the stack's bridges: a veth pair per network,
 * eth0 and eth1 inside, addressed, with the API bridge as default route. `ipInside` runs ip in it.
 */
export function plugScript(
  inputs: { apiCidr: string; externalCidr: string; apiBridge: string; externalBridge: string },
  net: ReturnType<typeof hostNetwork>,
  netns: string,
  ipInside: string,
): string {
  return `
    ip link add '${net.vethApi}' type veth peer name eth0 netns ${netns}
    ip link add '${net.vethExternal}' type veth peer name eth1 netns ${netns}
    ip link set '${net.vethApi}' master '${inputs.apiBridge}' up
    ip link set '${net.vethExternal}' master '${inputs.externalBridge}' up
    ${ipInside} -batch - <<'BATCH'
link set lo up
link set eth0 up
link set eth1 up
addr add ${net.address}/${prefixLength(inputs.apiCidr)} dev eth0
addr add ${net.externalAddress}/${prefixLength(inputs.externalCidr)} dev eth1
route add default via ${addressIn(inputs.apiCidr, 1)}
BATCH`;
}

/**
 * Removes whatever exists of this host: its processes, its veths, its namespace, files and slot; it
 * returns only once they are gone. The root-side veths are deleted first, synchronously: a namespace's
 * own links are otherwise freed by the kernel some time after `ip netns del` returns.
 */
async function teardown(
  props: { alias: string; namespace: string; dir: string; vethPrefix: string },
  releaseSlot: boolean,
) {
  const slot = slotOf(props.dir, props.alias);
  const veths = slot === undefined ? [] : vethsOf(props.vethPrefix, slot);
  await sh(`
    if ip netns pids '${props.namespace}' >/dev/null 2>&1; then
      for signal in TERM KILL; do
        pids=$(ip netns pids '${props.namespace}')
        [ -z "$pids" ] && break
        kill -$signal $pids 2>/dev/null || true
        for _ in $(seq 50); do [ -z "$(ip netns pids '${props.namespace}')" ] && break; sleep 0.1; done
      done
      [ -z "$(ip netns pids '${props.namespace}')" ] || { echo "processes of ${props.namespace} survive SIGKILL: $(ip netns pids '${props.namespace}')" >&2; exit 1; }
    fi
${deleteVethsScript(veths)}
    if [ -e '/run/netns/${props.namespace}' ]; then ip netns del '${props.namespace}'; fi`);
  forgetHost(props.dir, props.alias, releaseSlot);
}

export async function waitForSsh(address: string, alias: string) {
  const net: typeof import("node:net") = require("node:net");
  for (let attempt = 0; attempt < 50; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: address, port: 22, timeout: 1000 }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
      socket.on("timeout", () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd of ${alias} does not answer on ${address}:22`);
}

/**
 * The provider of a kind of host: a create that fails leaves nothing (`remove` takes what it made, slot
 * included, until the next up); any changed input replaces the host; delete removes it all.
 */
export function hostProviderOf<I extends object>(
  make: (inputs: I) => Promise<{ id: string; outs: I }>,
  remove: (props: I, releaseSlot: boolean) => Promise<void>,
): pulumi.dynamic.ResourceProvider {
  return {
    async create(inputs: I) {
      try {
        return await make(inputs);
      } catch (error) {
        await remove(inputs, true);
        throw error;
      }
    },
    async diff(_id: string, olds: I, news: I) {
      return replaceOnChange(olds, news);
    },
    async delete(_id: string, props: I) {
      await remove(props, true);
    },
  };
}

/** Namespace hosts: a failed create leaves no namespace, veth, sshd or slot. */
export const hostProvider = hostProviderOf<LocalHostInputs>(makeHost, teardown);

async function makeHost(inputs: LocalHostInputs) {
  const fs: typeof import("node:fs") = require("node:fs");
  const path: typeof import("node:path") = require("node:path");

  const slot = claimSlot(inputs.dir, inputs.alias);
  // What an interrupted create left (a leftover root-side veth would block the name) goes first.
  await teardown(inputs, false);
  const net = hostNetwork(inputs, slot);
  const { address, externalAddress } = net;
  const ns = inputs.namespace;
  const hostDir = path.join(inputs.dir, "hosts", inputs.alias);
  fs.mkdirSync(hostDir, { recursive: true });
  fs.writeFileSync(path.join(hostDir, "authorized_keys"), `${inputs.authorizedKey}\n`, { mode: 0o600 });
  fs.writeFileSync(
    path.join(hostDir, "sshd_config"),
    [
      `ListenAddress ${address}`,
      `HostKey ${hostDir}/ssh_host_ed25519_key`,
      `PidFile ${hostDir}/sshd.pid`,
      // Read by root whoever logs in: a user other than root could not read root's state directory.
      "AuthorizedKeysFile none",
      `AuthorizedKeysCommand /bin/cat ${hostDir}/authorized_keys`,
      "AuthorizedKeysCommandUser root",
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "AcceptEnv LANG LC_*",
      "Subsystem sftp internal-sftp",
      "",
    ].join("\n"),
  );
  await sh(`
    ssh-keygen -q -t ed25519 -N '' -C '${inputs.alias}' -f '${hostDir}/ssh_host_ed25519_key'
    ip netns add '${ns}'${plugScript(inputs, net, `'${ns}'`, `ip -n '${ns}'`)}
    mkdir -p /run/sshd
    ip netns exec '${ns}' "$(command -v sshd || echo /usr/sbin/sshd)" -f '${hostDir}/sshd_config' -E '${hostDir}/sshd.log'`);
  const kernel = parseKernelProbe(await sh(`ip netns exec '${ns}' bash -s <<'PROBE'\n${KERNEL_PROBE}PROBE`));
  await waitForSsh(address, inputs.alias);
  const hostKey = fs.readFileSync(path.join(hostDir, "ssh_host_ed25519_key.pub"), "utf8").trim();
  const outs: LocalHostOutputs = { ...inputs, slot, address, externalAddress, hostKey, kernel };
  return { id: ns, outs };
}

export type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** A host of the local testbed, of either kind: what the testbed reads of it. */
export class TestbedHost extends pulumi.dynamic.Resource {
  public readonly address!: pulumi.Output<string>;
  public readonly externalAddress!: pulumi.Output<string>;
  public readonly hostKey!: pulumi.Output<string>;
  public readonly kernel!: pulumi.Output<KernelFacts>;

  constructor(
    provider: pulumi.dynamic.ResourceProvider,
    type: string,
    name: string,
    args: object,
    opts?: pulumi.CustomResourceOptions,
  ) {
    const outputs = {
      slot: undefined,
      address: undefined,
      externalAddress: undefined,
      hostKey: undefined,
      kernel: undefined,
    };
    super(provider, name, { ...args, ...outputs }, opts, "enos", type);
  }
}

export class LocalHost extends TestbedHost {
  constructor(name: string, args: Inputs<LocalHostInputs>, opts?: pulumi.CustomResourceOptions) {
    super(hostProvider, "LocalHost", name, args, opts);
  }
}

/** A dynamic provider's diff: any changed input replaces the resource, the old one deleted first (names are reused). */
export function replaceOnChange<T extends object>(olds: T, news: T) {
  const replaces = (Object.keys(news) as (keyof T & string)[]).filter((k) => olds[k] !== news[k]);
  return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
}
