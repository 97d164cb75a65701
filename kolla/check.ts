/** One play of a kolla-ansible playbook and the hosts it would run on, as enos_plays.py records it. */
export interface PlayHosts {
  playbook: string;
  play: string;
  hosts: string[];
}

export interface CheckResult {
  /** Hosts that answered Ansible's ping through the rendered inventory. */
  reachable: string[];
  plays: PlayHosts[];
}

/** The check script's output: `ansible -m ping -o` lines, then `@@PLAYS` and one JSON line per play. */
export function parseCheckOutput(stdout: string): CheckResult {
  const [pings, plays = ""] = stdout.split("\n@@PLAYS\n");
  return {
    reachable: pings
      .split("\n")
      .map((l) => /^(\S+) \| SUCCESS/.exec(l)?.[1])
      .filter((h): h is string => Boolean(h)),
    plays: plays
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as PlayHosts),
  };
}

/** Per host, the kolla-ansible roles a deploy would apply there (plays named "Apply role X"), in play order. */
export function rolesByHost(plays: PlayHosts[]): Record<string, string[]> {
  const byHost: Record<string, string[]> = {};
  for (const { play, hosts } of plays) {
    const role = /^Apply role (.+)$/.exec(play)?.[1];
    if (!role) continue;
    for (const host of hosts) {
      byHost[host] ??= [];
      if (!byHost[host].includes(role)) byHost[host].push(role);
    }
  }
  return byHost;
}

/** What a real deploy would do, for the update's output. */
export function describeCheck(result: CheckResult): string {
  const roles = rolesByHost(result.plays);
  const lines = Object.entries(roles).map(([host, names]) => `  ${host}: ${names.join(", ")}`);
  const listed = new Set(result.plays.map((p) => p.playbook));
  return [
    `kolla check: ${result.reachable.filter((h) => h !== "localhost").length} hosts${result.reachable.includes("localhost") ? " and this machine (kolla's deployment host)" : ""} answer Ansible through the inventory; a deploy would apply:`,
    ...lines,
    ...(listed.has("bootstrap-servers")
      ? []
      : [
          "  (bootstrap-servers not listed: its playbook needs the openstack.kolla collection, which kolla-ansible install-deps fetches from opendev.org at deploy time)",
        ]),
  ].join("\n");
}
