import type { ClientChannel } from "ssh2";
import { type RemoteInputs, remoteInputs } from "../inputs";
import type { Ended, Job, Kind } from "../lifecycle";
import { describe, dial } from "./ssh";

/**
 * `command:remote:Command`: the command runs in one SSH exec session, as the login shell of the
 * connection's user runs it. `environment` travels as SSH env requests, as upstream sends them; sshd
 * applies only the names its AcceptEnv allows (Debian: LANG LC_*) and ssh2 asks for no reply, so a
 * refused variable is silently missing where upstream would fail.
 */
export const remote: Kind<RemoteInputs> = {
  inputs: remoteInputs,

  where: (inputs) => `on ${describe(inputs.connection)}`,

  async run(inputs: RemoteInputs, job: Job): Promise<Ended> {
    const client = await dial(inputs.connection, job.signal, job.log);
    try {
      // A stop that came as the connection became ready: the command does not start.
      if (job.signal.aborted) throw new Error(`stopped once connected to ${describe(inputs.connection)}`);
      const channel = await new Promise<ClientChannel>((resolve, reject) => {
        const opened = (error: Error | undefined, stream: ClientChannel) => (error ? reject(error) : resolve(stream));
        client.exec(job.command, { env: job.environment }, opened);
      });
      return await new Promise<Ended>((resolve) => {
        let ended: Ended = { exitCode: null, exitSignal: "the connection was lost" };
        // Without a pty sshd sends the command nothing when the connection closes: signal it first
        // (OpenSSH >= 7.9 delivers it), so that a timed-out or cancelled command does not go on.
        const stop = () => {
          channel.signal("KILL");
          client.end();
        };
        job.signal.addEventListener("abort", stop);
        if (job.signal.aborted) stop();
        channel.on("data", job.onStdout);
        channel.stderr.on("data", job.onStderr);
        channel.on("exit", (code: number | null, signal?: string) => {
          ended = code === null ? { exitCode: null, exitSignal: signal } : { exitCode: code };
        });
        channel.on("close", () => {
          job.signal.removeEventListener("abort", stop);
          resolve(ended);
        });
        channel.end(job.stdin);
      });
    } finally {
      client.end();
    }
  },
};
