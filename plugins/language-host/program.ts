import type { ChildProcess } from "node:child_process";
import * as net from "node:net";

/** The CLI kills a plugin 5 s after interrupting it: a cancelled program gets less than that to stop. */
const STOP_GRACE_MS = 3000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** A program running in a process group of its own, so that stopping it stops whatever it started. */
export class ProgramProcess {
  readonly exit: Promise<Exit>;
  private stopping = false;

  constructor(readonly child: ChildProcess) {
    this.exit = new Promise((resolve) => {
      child.once("error", (error) => resolve({ code: null, signal: null, error }));
      child.once("exit", (code, signal) => {
        // Its last output is still wanted, but a background process it left holding stderr must not
        // hold up the update.
        const drained = setTimeout(() => child.stderr?.destroy(), STOP_GRACE_MS);
        child.once("close", () => {
          clearTimeout(drained);
          resolve({ code, signal });
        });
      });
    });
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** SIGINT first (the SDK and node flush their output), SIGKILL for the group after a grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.signalGroup("SIGINT");
    const timer = new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref());
    await Promise.race([this.exit, timer]);
    // Children the program started may outlive its main process: the group goes in every case.
    this.signalGroup("SIGKILL");
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // ESRCH: nothing left in the group.
    }
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
