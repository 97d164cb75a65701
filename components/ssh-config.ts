import type { Host } from "../config/types";

/** An ssh_config with one entry per host, so that `ssh -F <file> <alias>` works for the user and the tools. */
export function renderSshConfig(hosts: Host[], knownHostsFile: string, learntHostsFile: string): string {
  const entries = hosts.map((h) => [
    // By address too: Ansible and other tools connect to ansible_host, not to the alias.
    `Host ${h.alias} ${h.address}`,
    `  HostName ${h.address}`,
    ...(h.user ? [`  User ${h.user}`] : []),
    ...(h.port ? [`  Port ${h.port}`] : []),
    ...(h.keyfile ? [`  IdentityFile ${h.keyfile}`, "  IdentitiesOnly yes"] : []),
    ...(h.jump ? [`  ProxyJump ${h.jump}`] : []),
    // Host keys the testbed reported are checked; others are learnt on first use, per experiment,
    // since testbeds hand the same addresses to reinstalled machines.
    ...(h.hostKey
      ? [`  UserKnownHostsFile ${knownHostsFile}`, "  StrictHostKeyChecking yes"]
      : [`  UserKnownHostsFile ${learntHostsFile}`, "  StrictHostKeyChecking accept-new"]),
    "  BatchMode yes",
    "  ConnectTimeout 20",
  ].join("\n"));
  return `# Written by enos. Use: ssh -F <this file> <alias>\n\n${entries.join("\n\n")}\n`;
}

export function renderKnownHosts(hosts: Host[]): string {
  // ssh looks a host on another port than 22 up as [address]:port (testbeds share addresses across ports: vagrant).
  const name = (h: Host) => (h.port && h.port !== 22 ? `[${h.address}]:${h.port}` : h.address);
  return hosts.filter((h) => h.hostKey).map((h) => `${name(h)} ${h.hostKey!.split(" ").slice(0, 2).join(" ")}\n`).join("");
}
