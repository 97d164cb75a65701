import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "../../config/paths";

const PYTHON = path.join(PROJECT_DIR, ".venv", "bin", "python");
/** Sends stdin to the shell's socket (waiting for it to listen) and prints the answer; -S: no site, fast. */
const CLIENT = `import socket, sys, time
s = socket.socket(socket.AF_UNIX)
for attempt in range(1200):
    try:
        s.connect(sys.argv[1])
        break
    except (FileNotFoundError, ConnectionRefusedError):
        time.sleep(0.05)
else:
    sys.exit("the openstack shell did not listen on %s in 60 s: see %s" % (sys.argv[1], sys.argv[2]))
s.sendall(sys.stdin.buffer.read() + b"\\n")
sys.stdout.buffer.write(b"".join(iter(lambda: s.recv(65536), b"")))`;

/** The OS_* an admin-openrc exports. */
export function openrcEnv(openrc: string): Record<string, string> {
  const text = fs.readFileSync(openrc, "utf8");
  return Object.fromEntries(
    [...text.matchAll(/^export (OS_\w+)=(?:'([^']*)'|(\S*))$/gm)].map((m) => [m[1], m[2] ?? m[3]]),
  );
}

export interface OpenstackShell {
  /** `openstack ...args` as the cloud's admin: its stdout; throws with its stderr when it fails. */
  run(...args: string[]): string;
  /** Stops the shell (it also stops when this process is gone). */
  close(): void;
}

/**
 * The venv's openstack client, kept loaded in one process (tests/support/openstack-shell.py): the
 * same commands and output as the `openstack` command, without its start-up at each call.
 */
export function openstackShell(env: Record<string, string>): OpenstackShell {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-openstack-shell-"));
  const socket = path.join(dir, "socket");
  const log = path.join(dir, "shell.log");
  const server = spawn(
    PYTHON,
    [path.join(PROJECT_DIR, "tests", "support", "openstack-shell.py"), socket, String(process.pid)],
    { stdio: ["ignore", "ignore", fs.openSync(log, "w")] },
  );
  server.unref();
  return {
    run(...args) {
      const answer = execFileSync(PYTHON, ["-S", "-c", CLIENT, socket, log], {
        input: JSON.stringify({ argv: args, env }),
        encoding: "utf8",
      });
      const { code, stdout, stderr } = JSON.parse(answer) as { code: number; stdout: string; stderr: string };
      if (code !== 0) throw new Error(`openstack ${args.join(" ")} failed (exit ${code}):\n${stderr}`);
      return stdout;
    },
    close() {
      server.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
