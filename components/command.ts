import * as pulumi from "@pulumi/pulumi";

/**
 * A command run on create and undone on delete, with the semantics of @pulumi/command's Command:
 * `create` runs once, `update` runs when it is set and the command inputs change, `delete` runs on
 * destroy or replacement, and any change of `triggers` (or of `create` when no `update` is given)
 * replaces the resource. The Go plugin of @pulumi/command cannot be built here (the Go proxy does not
 * serve its module), so this is a dynamic provider with the same contract: local commands run in bash,
 * remote ones in one `ssh` session with the script on stdin.
 */
export interface Connection {
  /** The experiment's ssh_config, which knows every host's address, user, key and host key. */
  sshConfig: string;
  alias: string;
}

export interface CommandArgs {
  create: pulumi.Input<string>;
  update?: pulumi.Input<string>;
  delete?: pulumi.Input<string>;
  environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  dir?: pulumi.Input<string>;
  /** Run over SSH on this host instead of locally. */
  connection?: pulumi.Input<Connection>;
  /** Any change here replaces the resource: hashes of exactly what the command consumes. */
  triggers?: pulumi.Input<unknown[]>;
}

interface CommandState {
  create: string;
  update?: string;
  delete?: string;
  environment?: Record<string, string>;
  dir?: string;
  connection?: Connection;
  triggers?: unknown[];
  stdout?: string;
  stderr?: string;
}

/** Runs one script locally or over ssh; rejects with the tail of its output on failure. */
async function runScript(script: string, state: CommandState): Promise<{ stdout: string; stderr: string }> {
  const { spawn }: typeof import("node:child_process") = require("node:child_process");
  const conn = state.connection;
  const [file, args] = conn ? ["ssh", ["-F", conn.sshConfig, conn.alias, "bash -s"]] : ["bash", ["-s"]];
  // Remote environment variables travel as exports at the top of the script: sshd accepts no others.
  // Its own quoting, not config/shell: this runs serialized inside the dynamic provider.
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  const exports = conn
    ? Object.entries(state.environment ?? {}).map(([k, v]) => `export ${k}=${quote(v)}\n`).join("")
    : "";
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: conn ? undefined : state.dir,
      env: { ...process.env, ...(conn ? {} : state.environment) },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code: number | null) => {
      if (code === 0) return resolve({ stdout: stdout.trimEnd(), stderr: stderr.trimEnd() });
      const where = conn ? `on ${conn.alias}` : "locally";
      // Tools differ in where they say what went wrong (Ansible: stdout), so both tails are shown.
      const tail = (text: string, name: string) => text.trim() ? `--- ${name} (last lines) ---\n${text.trim().split("\n").slice(-20).join("\n")}\n` : "";
      reject(new Error(`command failed ${where} with exit code ${code}:\n${tail(stdout, "stdout")}${tail(stderr, "stderr")}`));
    });
    child.stdin.end(exports + script);
  });
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

const commandProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: CommandState) {
    const crypto: typeof import("node:crypto") = require("node:crypto");
    const output = await runScript(inputs.create, inputs);
    return { id: crypto.randomUUID(), outs: { ...inputs, ...output } };
  },

  async diff(_id: string, olds: CommandState, news: CommandState) {
    const replaces: string[] = [];
    if (!same(olds.triggers, news.triggers)) replaces.push("triggers");
    if (!same(olds.connection, news.connection)) replaces.push("connection");
    if (olds.create !== news.create && news.update === undefined) replaces.push("create");
    const changes = replaces.length > 0 ||
      (["create", "update", "delete", "environment", "dir"] as const).some((k) => !same(olds[k], news[k]));
    return { changes, replaces, deleteBeforeReplace: true };
  },

  async update(_id: string, olds: CommandState, news: CommandState) {
    const commandChanged = (["create", "update", "environment", "dir"] as const).some((k) => !same(olds[k], news[k]));
    const output = commandChanged && news.update ? await runScript(news.update, news) : { stdout: olds.stdout, stderr: olds.stderr };
    return { outs: { ...news, ...output } };
  },

  async delete(_id: string, props: CommandState) {
    if (props.delete) await runScript(props.delete, props);
  },
};

export class Command extends pulumi.dynamic.Resource {
  public readonly stdout!: pulumi.Output<string>;
  public readonly stderr!: pulumi.Output<string>;

  constructor(name: string, args: CommandArgs, opts?: pulumi.CustomResourceOptions) {
    super(commandProvider, name, { ...args, stdout: undefined, stderr: undefined }, opts, "enos", "Command");
  }
}
