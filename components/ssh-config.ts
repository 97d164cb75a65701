import { parseJump } from "../config/net";
import type { Host } from "../config/types";

/**
 * A name as ssh looks it up in known_hosts: [address]:port on another port than 22
 * (testbeds share addresses across ports: vagrant).
 */
const knownName = (address: string, port?: number) => (port && port !== 22 ? `[${address}]:${port}` : address);

/**
 * The jump hosts of `hosts` that are no host of theirs (a gateway's floating IP), once each, with the key
 * learnt for each, and the user and key of the first host reached through it.
 */
interface SshHost {
  address: string;
  user?: string;
  port?: number;
  keyfile?: string;
  jump?: string;
  hostKey?: string;
}

function jumpHosts(hosts: Host[]): SshHost[] {
  const seen = new Map<string, SshHost | undefined>(
    hosts.map((host) => [knownName(host.address, host.port), undefined]),
  );
  for (const host of hosts) {
    const jump = host.jump === undefined ? undefined : parseJump(host.jump);
    const name = jump && knownName(jump.address, jump.port);
    if (jump && name && !seen.has(name)) {
      seen.set(name, { ...jump, user: jump.user ?? host.user, keyfile: host.keyfile, hostKey: host.jumpHostKey });
    }
  }
  return [...seen.values()].filter((jump) => jump !== undefined);
}

/** An ssh_config with one entry per host, so that `ssh -F <file> <alias>` works for the user and the tools. */
export function renderSshConfig(hosts: Host[], knownHostsFile: string, learntHostsFile: string): string {
  const entry = (names: string, host: SshHost) =>
    [
      `Host ${names}`,
      `  HostName ${host.address}`,
      ...(host.user ? [`  User ${host.user}`] : []),
      ...(host.port ? [`  Port ${host.port}`] : []),
      ...(host.keyfile ? [`  IdentityFile ${host.keyfile}`, "  IdentitiesOnly yes"] : []),
      ...(host.jump ? [`  ProxyJump ${host.jump}`] : []),
      // Host keys the testbed reported are checked; others are learnt on first use, per experiment,
      // since testbeds hand the same addresses to reinstalled machines.
      ...(host.hostKey
        ? [`  UserKnownHostsFile ${knownHostsFile}`, "  StrictHostKeyChecking yes"]
        : [`  UserKnownHostsFile ${learntHostsFile}`, "  StrictHostKeyChecking accept-new"]),
      "  BatchMode yes",
      "  ConnectTimeout 20",
    ].join("\n");
  // By address too: Ansible and other tools connect to ansible_host, not to the alias. ProxyJump passes
  // -F on: a jump host's own connection reads its entry here, its key checked as the hosts' are.
  const entries = [
    ...hosts.map((host) => entry(`${host.alias} ${host.address}`, host)),
    ...jumpHosts(hosts).map((jump) => entry(jump.address, jump)),
  ];
  return `# Written by enos. Use: ssh -F <this file> <alias>\n\n${entries.join("\n\n")}\n`;
}

export function renderKnownHosts(hosts: Host[]): string {
  const keyed = [...hosts, ...jumpHosts(hosts)].filter((host) => host.hostKey);
  return keyed
    .map((host) => `${knownName(host.address, host.port)} ${host.hostKey!.split(" ").slice(0, 2).join(" ")}\n`)
    .join("");
}
