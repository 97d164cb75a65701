import * as crypto from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import type { z } from "zod";
import { holdsSecret, plain, samePlain, secret, secretStrings, type WireProps, type WireValue } from "../shared/wire";
import { type CommandInputs, decode } from "./inputs";

/**
 * What local and remote commands share, after pulumi-command 1.2.1 (provider/pkg/provider/local and
 * remote): update runs `update`, else `create`; delete runs the old state's `delete`; a `triggers`
 * change replaces; the previous stdout/stderr are offered as PULUMI_COMMAND_STDOUT/STDERR; one
 * trailing newline is trimmed; outputs are secret when any input is. Unlike upstream, which logs
 * nothing of a command with a secret input, every line is logged and a failure shows its last lines,
 * with the secret inputs' values masked as CI systems mask theirs.
 */

/** One command to run, as a kind (local, remote) receives it. */
export interface Job {
  command: string;
  stdin?: string;
  /** The resource's `environment` plus the previous outputs. */
  environment: Record<string, string>;
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
  /** The kind's own progress lines (SSH retries), masked like the command's. */
  log: LineSink;
  /** Aborted on a timeout or when the engine cancels: the kind stops the command. */
  signal: AbortSignal;
}

/** How a command ended: an exit code, or the signal that stopped it. */
export interface Ended {
  exitCode: number | null;
  exitSignal?: string;
}

/** Where the commands of one resource type run, and the inputs they take. */
export interface Kind<I extends CommandInputs = CommandInputs> {
  inputs: z.ZodType<I>;
  /** Where commands run, for messages: "locally", "on root@10.0.0.1:22". */
  where(inputs: I): string;
  /** Runs the job; rejects only when it could not be started (no such directory, SSH refused). */
  run(inputs: I, job: Job): Promise<Ended>;
}

/** Reports one line a command printed; the engine shows it while the resource is in progress. */
export type LineSink = (line: string) => void;

/** Limits a run: a timeout in seconds (0 = none) and the engine's cancellation. */
export interface Limits {
  timeoutSeconds: number;
  cancelled: AbortSignal;
}

/** Hides the secret inputs' values in what is shown (log lines, errors); the outputs keep them, secret. */
export type Mask = (text: string) => string;

export const MASKED = "[secret]";
// Shorter values (a port, "yes", a one-letter user) would hide words and numbers all over the output.
const MIN_MASKED = 4;

// @pulumi/command makes a remote command's whole connection secret, for its credentials: only these
// are masked, not the host and user that messages and logs name.
const CREDENTIALS = ["privateKey", "privateKeyPassword", "password"];

function credentials(connection: WireValue): string[] {
  const hop = plain(connection);
  if (typeof hop !== "object" || hop === null) return [];
  const fields = hop as Record<string, unknown>;
  return [...CREDENTIALS.flatMap((key) => secretStrings(secret(fields[key]))), ...credentials(fields.proxy)];
}

export function maskOf(props: WireProps): Mask {
  const { connection, ...rest } = props;
  // The longest first, so that a whole value is hidden before any line of it.
  const values = [...new Set([...secretStrings(rest), ...credentials(connection)])]
    .filter((v) => v.length >= MIN_MASKED)
    .sort((a, b) => b.length - a.length);
  return (text) => values.reduce((masked, value) => masked.split(value).join(MASKED), text);
}

const OUTPUTS = ["stdout", "stderr"];
const TAIL_LINES = 20;
const PREVIOUS_STDOUT = "PULUMI_COMMAND_STDOUT";
const PREVIOUS_STDERR = "PULUMI_COMMAND_STDERR";
/** Linux's MAX_ARG_STRLEN: the longest NAME=value string a new process takes (32 pages). */
const MAX_ENV_STRING = 32 * 4096;

/** The resource's inputs as stored among its outputs, without the outputs themselves. */
function inputsOf(props: WireProps): WireProps {
  return Object.fromEntries(Object.entries(props).filter(([k]) => !OUTPUTS.includes(k)));
}

export function diff(olds: WireProps, news: WireProps): { changes: boolean; replaces: string[] } {
  const oldInputs = inputsOf(olds);
  const newInputs = inputsOf(news);
  const same = (k: string) => samePlain(oldInputs[k] ?? null, newInputs[k] ?? null);
  const changed = [...new Set([...Object.keys(oldInputs), ...Object.keys(newInputs)])].filter((k) => !same(k));
  return { changes: changed.length > 0, replaces: changed.filter((k) => k === "triggers") };
}

/** A resource id like upstream's: the name and 8 random hex digits. */
export function newId(urn: string): string {
  return `${urn.split("::").pop()}${crypto.randomBytes(4).toString("hex")}`;
}

interface Outcome {
  stdout: string;
  stderr: string;
}

/**
 * Decodes the resource's properties into its kind's inputs, runs the command `pick` chooses among them
 * (none: nothing runs) and returns the resource's new outputs: the inputs as the engine gave them,
 * then stdout and stderr. `previous` holds the outputs of the last create/update.
 */
export async function runCommand<I extends CommandInputs>(
  kind: Kind<I>,
  pick: (inputs: I) => string | undefined,
  props: WireProps,
  previous: Outcome,
  sink: LineSink,
  limits: Limits,
): Promise<WireProps> {
  const inputs = decode(kind.inputs, plain(props));
  const command = pick(inputs);
  // A command with a secret input may print it: what is shown of it is masked, line by line (a chunk
  // may end inside a secret), and its error as a whole.
  const mask = maskOf(props);
  let outcome = previous;
  try {
    const shown = (line: string) => sink(mask(line));
    if (command !== undefined) outcome = await execute(kind, command, inputs, previous, shown, limits);
  } catch (error) {
    throw new Error(mask((error as Error).message));
  }
  const out = (text: string): WireValue => (holdsSecret(props) ? secret(text) : text);
  return { ...inputsOf(props), stdout: out(outcome.stdout), stderr: out(outcome.stderr) };
}

/** The previous outputs kept in a state, revealed. */
export function previousOf(props: WireProps): Outcome {
  const text = (v: WireValue) => {
    const revealed = plain(v);
    return typeof revealed === "string" ? revealed : "";
  };
  return { stdout: text(props.stdout), stderr: text(props.stderr) };
}

/** Runs one command, logging its lines as they come; fails naming its exit code and last lines. */
async function execute<I extends CommandInputs>(
  kind: Kind<I>,
  command: string,
  inputs: I,
  previous: Outcome,
  sink: LineSink,
  limits: Limits,
): Promise<Outcome> {
  const { logging } = inputs;
  const environment = { ...inputs.environment };
  if (inputs.addPreviousOutputInEnv) {
    for (const [name, value] of [
      [PREVIOUS_STDOUT, previous.stdout],
      [PREVIOUS_STDERR, previous.stderr],
    ] as const) {
      if (!value) continue;
      const bytes = Buffer.byteLength(value);
      // Linux takes no environment string over MAX_ARG_STRLEN (the command would not start: E2BIG).
      if (bytes + name.length + 1 < MAX_ENV_STRING) environment[name] = value;
      else
        sink(`${name} left out: the previous output (${bytes} bytes) is over Linux's 128 KiB limit for one variable`);
    }
  }
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const stdoutLines = lineSplitter(logging === "stdout" || logging === "stdoutAndStderr" ? sink : undefined);
  const stderrLines = lineSplitter(logging === "stderr" || logging === "stdoutAndStderr" ? sink : undefined);
  const controller = new AbortController();
  const stop = () => controller.abort();
  limits.cancelled.addEventListener("abort", stop);
  const timer = limits.timeoutSeconds > 0 ? setTimeout(stop, limits.timeoutSeconds * 1000) : undefined;
  const stopped = () => (limits.cancelled.aborted ? "was cancelled" : `timed out after ${limits.timeoutSeconds} s`);
  let ended: Ended;
  try {
    if (limits.cancelled.aborted) throw new Error("the update was cancelled before this command started");
    ended = await kind
      .run(inputs, {
        command,
        stdin: inputs.stdin || undefined,
        environment,
        onStdout: (chunk) => {
          stdout.push(chunk);
          stdoutLines.push(chunk);
        },
        onStderr: (chunk) => {
          stderr.push(chunk);
          stderrLines.push(chunk);
        },
        log: sink,
        signal: controller.signal,
      })
      .catch((error: Error) => {
        // Stopped before it could start (while its SSH connection was being made, say).
        if (!controller.signal.aborted) throw error;
        throw new Error(`command ${stopped()} ${kind.where(inputs)} before it started: ${error.message}`);
      });
  } finally {
    clearTimeout(timer);
    limits.cancelled.removeEventListener("abort", stop);
    stdoutLines.flush();
    stderrLines.flush();
  }
  const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString("utf8");
  const outcome = { stdout: trimNewline(text(stdout)), stderr: trimNewline(text(stderr)) };
  if (ended.exitCode === 0 && !controller.signal.aborted) return outcome;
  const why = controller.signal.aborted
    ? stopped()
    : ended.exitCode !== null
      ? `failed with exit code ${ended.exitCode}`
      : `was killed by signal ${ended.exitSignal ?? "unknown"}`;
  const tails = `${tail(outcome.stdout, "stdout")}${tail(outcome.stderr, "stderr")}`;
  throw new Error(`command ${why} ${kind.where(inputs)}: ${summary(command)}\n${tails}`);
}

function trimNewline(text: string): string {
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

/** The command's first line, short enough for a message (scripts run to hundreds of lines). */
function summary(command: string): string {
  const first = command.trim().split("\n")[0];
  return first.length > 120 || command.trim().includes("\n") ? `${first.slice(0, 120)} …` : first;
}

// Tools differ in where they say what went wrong (Ansible: stdout), so both tails are shown.
function tail(text: string, name: string): string {
  if (!text.trim()) return "";
  return `--- ${name} (last lines) ---\n${text.trimEnd().split("\n").slice(-TAIL_LINES).join("\n")}\n`;
}

/** Cuts a byte stream into lines for the sink (none: drops them). */
function lineSplitter(sink: LineSink | undefined): { push(chunk: Buffer): void; flush(): void } {
  let pending = "";
  // A chunk may end inside a multi-byte character.
  const decoder = new StringDecoder("utf8");
  return {
    push(chunk) {
      if (!sink) return;
      const lines = (pending + decoder.write(chunk)).split("\n");
      pending = lines.pop() ?? "";
      lines.forEach(sink);
    },
    flush() {
      pending += decoder.end();
      if (sink && pending) sink(pending);
      pending = "";
    },
  };
}
