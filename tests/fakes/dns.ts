import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { PROJECT_DIR } from "../../config/paths";

/**
 * A testbed's DNS for a fake testbed: names resolve through a hosts file of the test's own,
 * bind-mounted over /etc/hosts in a private mount namespace around the engine (and so around its
 * providers' ssh) and around the test's own commands. No other process sees it, and it goes with them.
 */
export class FakeDns {
  readonly hostsFile: string;

  constructor(
    readonly dir: string,
    names: Record<string, string>,
  ) {
    this.hostsFile = path.join(dir, "hosts");
    const lines = Object.entries(names).map(([name, address]) => `${address} ${name}`);
    fs.writeFileSync(this.hostsFile, `${fs.readFileSync("/etc/hosts", "utf8").trimEnd()}\n${lines.join("\n")}\n`);
  }

  /** `command args…` in the private namespace, as a shell command line's words. */
  private wrapped(command: string, args: string[]): string[] {
    return [
      "unshare",
      "--mount",
      "sh",
      "-c",
      'mount --bind "$0" /etc/hosts && exec "$@"',
      this.hostsFile,
      command,
      ...args,
    ];
  }

  /** The built Pulumi CLI, run inside the namespace. */
  async pulumiCommand(): Promise<PulumiCommand> {
    const root = path.join(this.dir, "pulumi");
    fs.mkdirSync(path.join(root, "bin"), { recursive: true });
    const words = this.wrapped(path.join(PROJECT_DIR, "bin", "pulumi"), []).map((w) => `'${w.replace(/'/g, "'\\''")}'`);
    fs.writeFileSync(path.join(root, "bin", "pulumi"), `#!/bin/sh\nexec ${words.join(" ")} "$@"\n`, { mode: 0o755 });
    return PulumiCommand.get({ root, skipVersionCheck: true });
  }

  /** Runs a command that resolves the fake names. */
  run(command: string, args: string[]): string {
    const [program, ...rest] = this.wrapped(command, args);
    return execFileSync(program, rest, { encoding: "utf8", timeout: 30_000 });
  }
}
