import * as pulumi from "@pulumi/pulumi";
import { removeIfEmpty } from "../../config/files";
import { KERNEL_PROBE, type KernelFacts, parseKernelProbe } from "../../config/kernel";
import { parseJump } from "../../config/net";
import { shellQuote } from "../../config/shell";
import type { Host } from "../../config/types";

/**
 * Checks hosts over SSH, each with its own user, key and port: reachable, python3 present (Ansible
 * needs it), and the `eths` interfaces present; and reads their interfaces, addresses and kernel
 * facts. An `eths` entry that is a CIDR is resolved on each host to the interface holding an address
 * in it. Every problem of every host is reported at once; a failed probe records nothing. Deleting
 * releases nothing: the hosts belong to the user or to the testbed resource that made them.
 */
export interface ProbeTarget {
  alias: string;
  address: string;
  user?: string;
  port?: number;
  keyfile?: string;
  /** A jump host (`user@address`), for testbeds whose hosts are reached through a gateway. */
  jump?: string;
  /** This host's own `eths`, where hosts differ (Grid'5000 clusters name their NICs differently). */
  eths?: [string, string];
  /** Changes when the machine is reinstalled (a new deployment): its host key is then learnt anew. */
  generation?: string;
}

export interface ProbeInputs {
  hosts: ProbeTarget[];
  /** Every host's `eths`, unless the host has its own. */
  eths?: [string, string];
  /** Host keys are learnt on first use into this per-experiment file: testbeds recycle addresses. */
  knownHostsFile: string;
  /**
   * Seconds a freshly booted or deployed machine gets to answer SSH (cloud-init, sshd starting), tried
   * every SSH_RETRY_SECONDS meanwhile, as Enos' wait_ssh did; without it, one attempt (one's own machines).
   */
  sshWaitTimeout?: number;
}

const SSH_RETRY_SECONDS = 5;

export interface ProbedHost {
  alias: string;
  interfaces: { api: string; external: string };
  addresses: Record<string, string[]>;
  /** Interfaces that are up, but loopback and docker's own. */
  devices: string[];
  kernel: KernelFacts;
  /** The host key ssh learnt at the probe (`<type> <base64>`): later SSH sessions pin it. */
  hostKey?: string;
  /** Its jump host's, learnt the same way. */
  jumpHostKey?: string;
}

/**
 * What a host's probe tells the phases: its interfaces, the IPv4 addresses on them that traffic to it is addressed to,
 * its host key.
 */
export function probedFacts(
  host: ProbedHost,
): Pick<Host, "interfaces" | "devices" | "ips" | "kernel" | "hostKey" | "jumpHostKey"> {
  return {
    interfaces: host.interfaces,
    devices: host.devices,
    ips: host.devices.flatMap((d) => host.addresses[d] ?? []).map((a) => a.split("/")[0]),
    kernel: host.kernel,
    hostKey: host.hostKey,
    ...(host.jumpHostKey ? { jumpHostKey: host.jumpHostKey } : {}),
  };
}

/**
 * The key a known_hosts file holds for an address (and port), as `<type> <base64>`; ssh-keygen -F reads hashed files
 * too.
 */
function learntKey(knownHostsFile: string, address: string, port: number | undefined): string | undefined {
  const { spawnSync }: typeof import("node:child_process") = require("node:child_process");
  const name = port && port !== 22 ? `[${address}]:${port}` : address;
  const found = spawnSync("ssh-keygen", ["-F", name, "-f", knownHostsFile], { encoding: "utf8" }).stdout ?? "";
  const line = found.split("\n").find((l) => l && !l.startsWith("#"));
  return line?.split(/\s+/).slice(1, 3).join(" ");
}

const NOT_SHAPED = /^(lo|docker\d*|br-[0-9a-f]+|veth.*)$/;

/** Names of the interfaces `ip -o link` shows up, but loopback and docker's. */
export function activeDevices(linkOutput: string): string[] {
  return linkOutput.split("\n").flatMap((line) => {
    const match = /^\d+:\s+([^:@\s]+)[^<]*<([^>]*)>/.exec(line);
    return match?.[2].split(",").includes("UP") && !NOT_SHAPED.test(match[1]) ? [match[1]] : [];
  });
}

/** Interface name -> its IPv4 addresses (CIDR form), from `ip -o link` and `ip -o -4 addr` output. */
export function parseInterfaces(linkOutput: string, addrOutput: string): Record<string, string[]> {
  const interfaces: Record<string, string[]> = {};
  for (const line of linkOutput.split("\n")) {
    const match = /^\d+:\s+([^:@\s]+)/.exec(line);
    if (match) interfaces[match[1]] = [];
  }
  for (const line of addrOutput.split("\n")) {
    const match = /^\d+:\s+(\S+)\s+inet\s+(\S+)/.exec(line);
    if (match) {
      interfaces[match[1]] ??= [];
      interfaces[match[1]].push(match[2]);
    }
  }
  return interfaces;
}

/** The interface an `eths` entry names on a host: the name itself, or the one with an address in that CIDR. */
export function resolveInterface(eth: string, interfaces: Record<string, string[]>): string | undefined {
  if (!eth.includes("/")) return eth in interfaces ? eth : undefined;
  const toInt = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
  const [base, bits] = eth.split("/");
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return Object.keys(interfaces).find((name) =>
    interfaces[name].some((a) => (toInt(a.split("/")[0]) & mask) >>> 0 === (toInt(base) & mask) >>> 0),
  );
}

async function probeOne(target: ProbeTarget, inputs: ProbeInputs): Promise<ProbedHost | string> {
  const { eths: defaultEths, knownHostsFile, sshWaitTimeout = 0 } = inputs;
  const { execFile }: typeof import("node:child_process") = require("node:child_process");
  const eths = target.eths ?? defaultEths;
  if (!eths) throw new Error(`probe of ${target.alias}: no eths to check`);
  const name = `${target.alias} (${target.address})`;
  const jump = target.jump ? parseJump(target.jump) : undefined;
  if (target.jump && !jump) return `${name}: jump "${target.jump}" is not [user@]address[:port]`;
  // Host keys are learnt on first use into the experiment's file, and checked against it after.
  const checked = [
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "StrictHostKeyChecking=accept-new",
    "-o",
    `UserKnownHostsFile=${knownHostsFile}`,
  ];
  const identity = target.keyfile ? ["-i", target.keyfile, "-o", "IdentitiesOnly=yes"] : [];
  // ssh -J would reach the jump host with none of these options (its key unchecked or in the user's
  // known_hosts): the same ssh, as a ProxyCommand (a shell line, where % starts ssh's tokens).
  const proxy =
    jump &&
    [
      "ssh",
      ...checked,
      ...identity,
      "-l",
      jump.user ?? target.user ?? "root",
      "-p",
      String(jump.port),
      "-W",
      "[%h]:%p",
      jump.address,
    ]
      .map((arg) => (arg === "[%h]:%p" ? arg : shellQuote(arg).replace(/%/g, "%%")))
      .join(" ");
  const args = [
    ...checked,
    ...(target.user ? ["-l", target.user] : []),
    ...(target.port ? ["-p", String(target.port)] : []),
    ...identity,
    ...(proxy ? ["-o", `ProxyCommand=${proxy}`] : []),
    target.address,
    `command -v python3 >/dev/null || echo NO-PYTHON3; echo ---; ip -o link show; echo ---; ip -o -4 addr show; echo ---; ${target.user && target.user !== "root" ? "sudo -n " : ""}bash -s <<'PROBE'\n${KERNEL_PROBE}PROBE`,
  ];
  const attempt = () =>
    new Promise<{ ok: boolean; sshFailed: boolean; out: string; err: string }>((resolve) =>
      execFile("ssh", args, { timeout: 60_000 }, (error, out, err) =>
        // 255 (or no exit at all): ssh itself failed (no route, refused, key not yet installed); else the host
        // answered.
        resolve({ ok: !error, sshFailed: !!error && (error.code === 255 || error.killed === true), out, err }),
      ),
    );
  // A key other than the one learnt: another machine answers at that address (or it was reinstalled).
  const changedKey = (err: string) => /host key for (\S+) has changed/i.exec(err)?.[1];
  const started = Date.now();
  let attempts = 1;
  let result = await attempt();
  while (
    !result.ok &&
    result.sshFailed &&
    !changedKey(result.err) &&
    Date.now() - started + SSH_RETRY_SECONDS * 1000 <= sshWaitTimeout * 1000
  ) {
    await new Promise((resolve) => setTimeout(resolve, SSH_RETRY_SECONDS * 1000));
    attempts++;
    result = await attempt();
  }
  const changed = changedKey(result.err);
  if (!result.ok && changed) {
    const which = `${changed}${jump?.address === changed ? " (its jump host)" : ""}`;
    return (
      `${name}: the SSH host key of ${which} is not the one learnt in ${knownHostsFile}: refused. ` +
      `If that machine was reinstalled, forget its old key (ssh-keygen -R ${changed} -f ${knownHostsFile}) ` +
      "and run again"
    );
  }
  if (!result.ok) {
    const waited =
      attempts > 1
        ? ` after ${attempts} attempts in ${Math.round((Date.now() - started) / 1000)} s (provider.ssh_wait_timeout: ${sshWaitTimeout})`
        : "";
    return `${name}: unreachable over SSH${waited}: ${result.err.trim().split("\n").pop() || "no answer"}`;
  }
  const [python, links, addrs, kernel] = result.out.split("---\n");
  const problems: string[] = [];
  if (python.includes("NO-PYTHON3")) problems.push("python3 is missing (Ansible needs it)");
  const addresses = parseInterfaces(links ?? "", addrs ?? "");
  const [api, external] = eths.map((eth) => resolveInterface(eth, addresses));
  eths.forEach((eth, i) => {
    if (![api, external][i])
      problems.push(
        `no interface ${eth.includes("/") ? `with an address in ${eth}` : eth} (it has ${Object.keys(addresses).join(", ")})`,
      );
  });
  if (problems.length) return `${name}: ${problems.join("; ")}`;
  return {
    alias: target.alias,
    interfaces: { api: api!, external: external! },
    addresses,
    devices: activeDevices(links),
    kernel: parseKernelProbe(kernel ?? ""),
    hostKey: learntKey(knownHostsFile, target.address, target.port),
    ...(jump ? { jumpHostKey: learntKey(knownHostsFile, jump.address, jump.port) } : {}),
  };
}

/** SSH sessions at once: a 1000-node testbed must not open 1000 connections together. */
const PROBE_PARALLELISM = 32;

export async function probeAll(inputs: ProbeInputs) {
  const fs: typeof import("node:fs") = require("node:fs");
  const path: typeof import("node:path") = require("node:path");
  fs.mkdirSync(path.dirname(inputs.knownHostsFile), { recursive: true });
  const results: (ProbedHost | string)[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < inputs.hosts.length; i = next++) results[i] = await probeOne(inputs.hosts[i], inputs);
  };
  await Promise.all(Array.from({ length: Math.min(PROBE_PARALLELISM, inputs.hosts.length) }, worker));
  const problems = results.filter((r): r is string => typeof r === "string");
  if (problems.length) {
    throw new Error(
      `${problems.length} of ${inputs.hosts.length} host(s) cannot be used:\n  - ${problems.join("\n  - ")}`,
    );
  }
  return { ...inputs, probed: results as ProbedHost[] };
}

const probeProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: ProbeInputs) {
    return { id: inputs.hosts.map((h) => h.address).join(","), outs: await probeAll(inputs) };
  },
  async diff(_id: string, olds: ProbeInputs, news: ProbeInputs) {
    const changes = JSON.stringify([olds.hosts, olds.eths]) !== JSON.stringify([news.hosts, news.eths]);
    return { changes };
  },
  async update(_id: string, olds: ProbeInputs, news: ProbeInputs) {
    const { execFileSync }: typeof import("node:child_process") = require("node:child_process");
    const before = new Map(olds.hosts.map((h) => [h.address, h.generation]));
    const fs: typeof import("node:fs") = require("node:fs");
    for (const host of news.hosts.filter((h) => before.has(h.address) && before.get(h.address) !== h.generation)) {
      if (fs.existsSync(news.knownHostsFile))
        execFileSync("ssh-keygen", ["-R", host.address, "-f", news.knownHostsFile], { stdio: "ignore" });
    }
    fs.rmSync(`${news.knownHostsFile}.old`, { force: true });
    return { outs: await probeAll(news) };
  },
  async delete(_id: string, props: ProbeInputs) {
    const fs: typeof import("node:fs") = require("node:fs");
    fs.rmSync(props.knownHostsFile, { force: true });
    removeIfEmpty(require("node:path").dirname(props.knownHostsFile));
  },
};

export class StaticHostsProbe extends pulumi.dynamic.Resource {
  public readonly probed!: pulumi.Output<ProbedHost[]>;

  constructor(
    name: string,
    args: { [K in keyof ProbeInputs]: pulumi.Input<ProbeInputs[K]> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(probeProvider, name, { ...args, probed: undefined }, opts, "enos", "StaticHostsProbe");
  }
}
