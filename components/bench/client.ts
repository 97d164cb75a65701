import * as path from "node:path";
import { PROJECT_DIR } from "../../config/paths";
import type { ProviderConfig } from "../../config/schema";
import { shellQuote } from "../../config/shell";
import type { Host } from "../../config/types";

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

/** One line for dry runs: where Shaker's agents, booted in the over-cloud, reach its server. */
export function describeAgentRoute(route: ClientRoute): string {
  return route.through === "direct"
    ? `this machine's address on its route to the cloud's API, port ${SHAKER_PORT}`
    : `a relay on ${route.host ?? "the first control host"} (its address on its route to the cloud's API, ` +
        `port ${SHAKER_PORT}), forwarded to this machine by ssh -R`;
}

/** ssh's options for a long-lived forward through the stack's ssh_config: it fails if it cannot forward. */
const forwardingOptions = (sshConfig: string) => [
  "-F",
  sshConfig,
  "-o",
  "ExitOnForwardFailure=yes",
  "-o",
  "BatchMode=yes",
  "-o",
  "ServerAliveInterval=30",
];

/** ssh's arguments for a SOCKS proxy on `bind` (127.0.0.1:port) through host, failing if the port is taken. */
export function socksArgs(sshConfig: string, host: string, bind: string): string[] {
  const [file, config, ...options] = forwardingOptions(sshConfig);
  return [file, config, "-n", "-N", "-D", bind, ...options, host];
}

/** Python that prints a free port of 127.0.0.1. */
const FREE_PORT = 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])';

/** Bash that ends the script's background ssh sessions and removes its temporary files, whichever opened them. */
const CLEANUP = `trap 'kill \${enos_bg:-} 2>/dev/null; rm -f \${enos_tmp:-}' EXIT`;

/**
 * Bash that waits up to 30 s for `ready` (a bash test) while the background ssh in $pid runs, or
 * stops the script with ssh's own error from $log.
 */
function awaitSsh(ready: string, pid: string, log: string, what: string): string[] {
  return [
    "for i in $(seq 150); do",
    `  ${ready} && break`,
    `  if ! kill -0 "${pid}" 2>/dev/null || [ "$i" = 150 ]; then`,
    `    echo "enos: ${what}:" "$(cat "${log}")" >&2; exit 1`,
    "  fi",
    "  sleep 0.2",
    "done",
  ];
}

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
    `tunnel_log=$(mktemp); enos_tmp="\${enos_tmp:-} $tunnel_log"`,
    CLEANUP,
    `ssh ${ssh.join(" ")} > /dev/null 2> "$tunnel_log" &`,
    `tunnel=$!; enos_bg="\${enos_bg:-} $tunnel"`,
    ...awaitSsh(
      '(: < "/dev/tcp/127.0.0.1/$port") 2>/dev/null',
      "$tunnel",
      "$tunnel_log",
      `the SOCKS proxy to ${route.host} did not open (ssh -F ${sshConfig} ${route.host})`,
    ),
    'export http_proxy="socks5h://127.0.0.1:$port" https_proxy="socks5h://127.0.0.1:$port"',
    "unset no_proxy NO_PROXY HTTP_PROXY HTTPS_PROXY",
  ];
}

/** Shaker's agents connect back to its server on this port (of this machine, or of the relay's host). */
export const SHAKER_PORT = 5999;

/**
 * Bash that sets $endpoint, the address:port Shaker's agents (booted in the over-cloud, whose API is
 * at $api) connect back to, with the Shaker server listening on SHAKER_PORT of this machine. Direct:
 * this machine's address on the route to $api. Through a proxy the cloud's instances cannot reach
 * this machine: ssh forwards SHAKER_PORT of the route's host (its loopback) here, and a relay on that
 * host (components/bench/agent_relay.py) listens on its address on the route to $api; both end with
 * the script.
 */
export function renderAgentEndpoint(client?: { route: ClientRoute; sshConfig: string }): string[] {
  if (!client || client.route.through === "direct")
    return [
      `address=$(ip -o route get "$api" | sed -n 's/.* src \\([0-9.]*\\).*/\\1/p')`,
      `endpoint="$address:${SHAKER_PORT}"`,
    ];
  const { route, sshConfig } = client;
  if (!route.host) throw new Error("a relayed route needs its host: routeFor gives it");
  const forward = `127.0.0.1:${SHAKER_PORT}:127.0.0.1:${SHAKER_PORT}`;
  const ssh = forwardingOptions(sshConfig);
  const relay = path.join(PROJECT_DIR, "components", "bench", "agent_relay.py");
  return [
    `# Shaker's agents reach its server through a relay on ${route.host} and ssh -R (${route.why})`,
    `relay_log=$(mktemp); relay_out=$(mktemp); enos_tmp="\${enos_tmp:-} $relay_log $relay_out"`,
    CLEANUP,
    `ssh ${ssh.map(shellQuote).join(" ")} -R ${forward} ${shellQuote(route.host)} \\`,
    `  "exec python3 - $(printf %q "$api") ${SHAKER_PORT}" < ${shellQuote(relay)} > "$relay_out" 2> "$relay_log" &`,
    `relay=$!; enos_bg="\${enos_bg:-} $relay"`,
    ...awaitSsh(
      '[ -s "$relay_out" ]',
      "$relay",
      "$relay_log",
      `the relay for Shaker's agents on ${route.host} did not start (ssh -F ${sshConfig} ${route.host})`,
    ),
    `endpoint="$(head -1 "$relay_out"):${SHAKER_PORT}"`,
  ];
}
