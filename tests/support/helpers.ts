import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { PROJECT_DIR } from "../../config/paths";

/** Tests run from dist/tests; fixtures stay in the source tree. */
export const FIXTURES = path.join(PROJECT_DIR, "tests", "fixtures");

/** The compiled enos CLI (without bin/enos' compile step) run in `cwd`. */
export function enosIn(cwd: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(PROJECT_DIR, "dist", "cli", "enos.js"), ...args], {
    cwd,
    encoding: "utf8",
    timeout: 900_000,
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** A free TCP port on 127.0.0.1, closed again: nothing listens on it until someone does. */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Sshd {
  port: number;
  hostKey: string;
  logFile: string;
  process: ChildProcess;
}

/**
 * An sshd of its own on 127.0.0.1 (on `port`, or a free one): a temporary host key, root logs in with `clientPub`'s key
 * only.
 */
export async function startSshd(dir: string, name: string, clientPub: string, port?: number): Promise<Sshd> {
  const home = path.join(dir, name);
  fs.mkdirSync(home);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(home, "host_key")]);
  fs.writeFileSync(path.join(home, "authorized_keys"), clientPub);
  port ??= await freePort();
  const logFile = path.join(home, "sshd.log");
  fs.writeFileSync(
    path.join(home, "sshd_config"),
    `${[
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${home}/host_key`,
      `AuthorizedKeysFile ${home}/authorized_keys`,
      `PidFile ${home}/sshd.pid`,
      "StrictModes no",
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "AcceptEnv LANG LC_* PULUMI_COMMAND_*",
      "AllowTcpForwarding yes",
      // debug1 logs the proxy's direct-tcpip channels, which is how the test sees a hop was used.
      "LogLevel DEBUG1",
    ].join("\n")}\n`,
  );
  // sshd refuses to start without its privilege separation directory.
  fs.mkdirSync("/run/sshd", { recursive: true });
  const child = spawn("/usr/sbin/sshd", ["-D", "-f", path.join(home, "sshd_config"), "-E", logFile], {
    stdio: "ignore",
  });
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.end();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (up)
      return {
        port,
        hostKey: fs.readFileSync(path.join(home, "host_key.pub"), "utf8").trim(),
        logFile,
        process: child,
      };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`sshd ${name} did not listen on 127.0.0.1:${port}: see ${logFile}`);
}
