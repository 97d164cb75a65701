import { type ChildProcess, spawn } from "node:child_process";
import * as net from "node:net";
import type { Command } from "commander";
import { socksArgs } from "../components/bench/client";
import type { Host } from "../config/types";
import { exitWith, type GlobalOptions, stackName, UsageError, upRecord } from "./context";
import { openExperiment } from "./workspace";

/** What the stack's outputs say of its OpenStack (program.ts: kolla). */
interface Kolla {
  mode: string;
  vip: string;
  horizonUrl?: string;
  adminOpenrc?: string;
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/**
 * ssh's SOCKS proxy on 127.0.0.1:port through `host` (by its ssh_config alias): resolves once it
 * listens, rejects with ssh's own words if it exits first (a taken port, an unreachable host) or
 * does not listen within 30 s.
 */
export async function openTunnel(sshConfig: string, host: string, port: number): Promise<ChildProcess> {
  // Something listening already would pass for the proxy.
  if (await listening(port)) throw new Error(`127.0.0.1:${port} is in use: pick another port (--port)`);
  const ssh = spawn("ssh", socksArgs(sshConfig, host, `127.0.0.1:${port}`), { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  ssh.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => ssh.once("exit", () => resolve()));
  for (let i = 0; i < 150; i++) {
    if (ssh.exitCode !== null || ssh.signalCode !== null) break;
    if (await listening(port)) return ssh;
    await Promise.race([exited, new Promise((r) => setTimeout(r, 200))]);
  }
  ssh.kill();
  throw new Error(
    `the SSH tunnel to ${host} (ssh -F ${sshConfig} ${host}) did not open on 127.0.0.1:${port}: ` +
      (stderr.trim() || "no word from ssh in 30 s"),
  );
}

/** The host the tunnel goes through: --host, or the first control host (it reaches the VIPs). */
export function tunnelHost(hosts: Host[], alias?: string): Host {
  const host = alias
    ? hosts.find((h) => h.alias === alias)
    : (hosts.find((h) => h.roles.includes("control")) ?? hosts[0]);
  if (!host)
    throw new UsageError(`--host ${alias}: no such host; the hosts are ${hosts.map((h) => h.alias).join(", ")}`);
  return host;
}

/** What `enos ssh-tunnel` prints once the proxy listens: what to point each client at. */
export function describeTunnel(port: number, host: string, kolla?: Kolla): string {
  const proxy = `socks5h://127.0.0.1:${port}`;
  const lines = [
    `SOCKS5 proxy on 127.0.0.1:${port}, through ${host}: every address and port of the testbed's networks, VIPs too.`,
    `  openstack, rally (python-requests with PySocks, as in .venv):`,
    `    export http_proxy=${proxy} https_proxy=${proxy}`,
  ];
  if (kolla) {
    if (kolla.adminOpenrc) lines.push(`    . ${kolla.adminOpenrc} && .venv/bin/openstack endpoint list`);
    lines.push(
      `  browser: SOCKS v5 proxy 127.0.0.1 port ${port}, DNS through the proxy; then ${kolla.horizonUrl ? `Horizon at ${kolla.horizonUrl}` : "the APIs (no Horizon: enable_horizon is no)"}`,
      `  (internal VIP ${kolla.vip})`,
    );
  } else {
    lines.push("  browser: SOCKS v5 proxy 127.0.0.1, DNS through the proxy (this stack has no OpenStack deployed yet)");
  }
  lines.push("Ctrl-C closes the tunnel.");
  return `${lines.join("\n")}\n`;
}

/** `enos ssh-tunnel`: a tunnel to the over-cloud's APIs and Horizon through the testbed's SSH path. */
export function register(program: Command) {
  program
    .command("ssh-tunnel")
    .description(
      "open a SOCKS proxy to the over-cloud's APIs and Horizon through the testbed's SSH path " +
        "(its ssh_config, jump host included); Ctrl-C closes it",
    )
    .option("--port <port>", "the local port of the proxy", "2100")
    .option("--host <alias>", "the host the tunnel goes through (default: the first control host)")
    .action(
      exitWith(async (options: { port: string; host?: string }, command: Command) => {
        const port = Number(options.port);
        if (!Number.isInteger(port) || port < 1 || port > 65535)
          throw new UsageError(`--port ${options.port}: not a port`);
        const name = stackName(command.optsWithGlobals<GlobalOptions>());
        const record = await upRecord(name);
        const kolla = (await (await openExperiment(name)).outputs()).kolla?.value as Kolla | undefined;
        const host = tunnelHost(record.hosts, options.host);
        const ssh = await openTunnel(record.sshConfig, host.alias, port);
        process.stdout.write(describeTunnel(port, host.alias, kolla?.mode === "deploy" ? kolla : undefined));
        process.once("SIGINT", () => ssh.kill());
        process.once("SIGTERM", () => ssh.kill());
        const code = await new Promise<number | null>((resolve) => ssh.once("exit", (c) => resolve(c)));
        // Closed by Ctrl-C (ssh killed): done; ssh gone by itself (the host went away): say so.
        if (code === null) return 0;
        console.error(`enos: the tunnel through ${host.alias} closed (ssh exited ${code})`);
        return 1;
      }),
    );
}
