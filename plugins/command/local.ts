import { spawn } from "node:child_process";
import { type LocalInputs, localInputs } from "./inputs";
import type { Ended, Job, Kind } from "./lifecycle";

const SETPGRP_EXEC = 'setpgrp(0, 0); exec { $ARGV[0] } @ARGV or die "cannot run $ARGV[0]: $!\\n"';
/** How long a stopped command's process group has between SIGTERM and SIGKILL. */
export const STOP_GRACE_MS = 5000;

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  try {
    if (pid !== undefined) process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** `command:local:Command` and `command:local:run`: a command run by the interpreter on this machine. */
export const local: Kind<LocalInputs> = {
  inputs: localInputs,

  where: (inputs) => `locally in ${inputs.dir ?? process.cwd()}`,

  run(inputs: LocalInputs, job: Job): Promise<Ended> {
    const { interpreter } = inputs;
    const [file, ...args] = interpreter && interpreter.length > 0 ? interpreter : ["/bin/sh", "-c"];
    return new Promise((resolve, reject) => {
      // A process group of its own, so that a timeout or a cancel stops whatever the command started,
      // but in the engine's session (node's `detached` would make a new one), so that whoever stops
      // the engine's session stops the commands too. Node cannot setpgid: perl (Debian's
      // essential perl-base) does, then execs the interpreter.
      const child = spawn("perl", ["-e", SETPGRP_EXEC, file, ...args, job.command], {
        // Upstream runs in the plugin's working directory, which the engine sets to the program's.
        cwd: inputs.dir ?? process.cwd(),
        env: { ...process.env, ...job.environment },
        stdio: [job.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
      // The whole group, even once the shell has exited: a background child may still hold its output.
      let killer: NodeJS.Timeout | undefined;
      const stop = () => {
        signalGroup(child.pid, "SIGTERM");
        killer = setTimeout(() => signalGroup(child.pid, "SIGKILL"), STOP_GRACE_MS);
      };
      job.signal.addEventListener("abort", stop);
      child.stdout?.on("data", job.onStdout);
      child.stderr?.on("data", job.onStderr);
      child.on("error", (error) => {
        job.signal.removeEventListener("abort", stop);
        reject(new Error(`cannot start ${file} ${local.where(inputs)}: ${error.message}`));
      });
      child.on("close", (exitCode, exitSignal) => {
        job.signal.removeEventListener("abort", stop);
        if (killer) {
          // What a stopped command leaves in its group (a child that ignores SIGTERM) goes with it.
          clearTimeout(killer);
          signalGroup(child.pid, "SIGKILL");
        }
        resolve({ exitCode, exitSignal: exitSignal ?? undefined });
      });
      if (child.stdin) {
        // A command that does not read its stdin closes it early: that is no failure.
        child.stdin.on("error", () => undefined);
        child.stdin.end(job.stdin);
      }
    });
  },
};
