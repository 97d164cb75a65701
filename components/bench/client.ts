import * as path from "node:path";
import type { ConfigProblem } from "../../config/errors";
import type { ProviderConfig } from "../../config/schema";
import { shellQuote } from "../../config/shell";
import type { Host } from "../../config/types";
import type { Workload } from "../../workloads/run-file";

/**
 * Where the benchmark clients (Rally, Shaker, and the operator's own `openstack` or browser through
 * `enos ssh-tunnel`) reach the over-cloud from. Not the address of one API: Keystone hands out a
 * catalog of endpoints (Nova, Glance, Neutron... at the VIPs and their ports), which the clients then
 * call, so a forwarded port or two would not do. A SOCKS proxy that ssh opens on a testbed host
 * (`ssh -D`, through the same ssh_config, jump host included, as every other phase) carries every
 * connection to any address and port the catalog names, and the clients stay on this machine with
 * their results, as Enos 3.0's documentation had it for a cloud behind a gateway (`ssh -ND`,
 * `requests[socks]`). `socks5h`: names, if the catalog has any, are resolved on the testbed too.
 */
export type ClientRoute =
  | { through: "direct"; why: string }
  | { through: "socks"; why: string /** The host the proxy runs on, by its ssh_config alias. */; host?: string };

/** Whether this machine reaches the VIPs, as each testbed puts them. */
export function clientRoute(provider: ProviderConfig): ClientRoute {
  switch (provider.type) {
    case "local":
      return { through: "direct", why: "the local testbed's networks are bridges on this machine" };
    case "vagrant":
      return { through: "direct", why: "the VMs' networks are host-only networks of this machine" };
    case "static":
      return { through: "direct", why: "static hosts are reached directly, their VIPs with them" };
    case "g5k":
      return { through: "socks", why: "the VIPs are in the job's KaVLAN, which need not be routed to this machine" };
    case "openstack":
    case "chameleonkvm":
    case "chameleonbaremetal":
      return provider.gateway
        ? { through: "socks", why: "the hosts are behind the gateway host's floating IP, gateway: true" }
        : { through: "direct", why: "gateway: false, enos runs on a machine of the testbed's network" };
  }
}

/** The route with its host: the first control host (it holds, or shares a network with, the internal VIP). */
export function routeFor(provider: ProviderConfig, hosts: Host[]): ClientRoute {
  const route = clientRoute(provider);
  if (route.through === "direct") return route;
  const control = hosts.find((h) => h.roles.includes("control")) ?? hosts[0];
  return { ...route, host: control.alias };
}

/** One line for dry runs and logs: where a benchmark client runs, and why. */
export function describeRoute(route: ClientRoute): string {
  return route.through === "direct"
    ? `on this machine, straight to the VIPs (${route.why})`
    : `on this machine, through a SOCKS proxy ssh opens on ${route.host ?? "the first control host"} (${route.why})`;
}

/** ssh's arguments for a SOCKS proxy on `bind` (127.0.0.1:port) through host, failing if the port is taken. */
export function socksArgs(sshConfig: string, host: string, bind: string): string[] {
  return [
    "-F",
    sshConfig,
    "-n",
    "-N",
    "-D",
    bind,
    "-o",
    "ExitOnForwardFailure=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "ServerAliveInterval=30",
    host,
  ];
}

/** Python that prints a free port of 127.0.0.1. */
const FREE_PORT = 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])';

/**
 * Bash that opens the proxy for the rest of the script (closed when it exits) and points the clients'
 * HTTP libraries at it (python-requests needs PySocks for socks5h, in the venv); nothing when direct.
 */
export function renderClientRoute(route: ClientRoute, sshConfig: string, python: string): string[] {
  if (route.through === "direct") return [];
  if (!route.host) throw new Error("a SOCKS route needs its host: routeFor gives it");
  const bind = "127.0.0.1:$port";
  const ssh = socksArgs(sshConfig, route.host, bind).map((a) => (a === bind ? `"${a}"` : shellQuote(a)));
  return [
    `# ${describeRoute(route)}`,
    `port=$(${shellQuote(python)} -c ${shellQuote(FREE_PORT)})`,
    "tunnel_log=$(mktemp)",
    `ssh ${ssh.join(" ")} > /dev/null 2> "$tunnel_log" &`,
    "tunnel=$!",
    'trap \'kill "$tunnel" 2>/dev/null; rm -f "$tunnel_log"\' EXIT',
    "for i in $(seq 150); do",
    '  (: < "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break',
    `  if ! kill -0 "$tunnel" 2>/dev/null || [ "$i" = 150 ]; then`,
    `    echo "enos: the SOCKS proxy to ${route.host} did not open (ssh -F ${sshConfig} ${route.host}):" \\`,
    `      "$(cat "$tunnel_log")" >&2; exit 1`,
    "  fi",
    "  sleep 0.2",
    "done",
    'export http_proxy="socks5h://127.0.0.1:$port" https_proxy="socks5h://127.0.0.1:$port"',
    "unset no_proxy NO_PROXY HTTP_PROXY HTTPS_PROXY",
  ];
}

/**
 * Shaker's agents, booted in the over-cloud, connect back to its server on the machine that runs it:
 * through a proxy the clients reach the cloud, but the cloud's instances do not reach this machine.
 */
export function shakerProblem(route: ClientRoute, workload: Workload): ConfigProblem | undefined {
  if (route.through === "direct" || !workload.runs.some((r) => r.type === "shaker")) return undefined;
  return {
    path: `${path.join(workload.dir, "run.yml")}:shaker`,
    message:
      `Shaker's agents, booted in the over-cloud, connect back to its server on this machine, which they cannot ` +
      `reach: ${route.why}. Set shaker.enabled: false for this testbed, or run enos from a machine of its network`,
  };
}
