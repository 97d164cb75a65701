import * as fs from "node:fs";
import * as path from "node:path";
import { local, type types } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { parseJump } from "../config/net";
import { shellQuote } from "../config/shell";
import type { Host } from "../config/types";

/**
 * How the phases use @pulumi/command: their scripts are bash, run on this machine (local.Command)
 * or on a host (remote.Command, connection from the testbed's Host); files and checks are commands too.
 */

/** The phases' scripts are bash (pipefail, arrays), not POSIX sh, @pulumi/command's default. */
export const BASH = ["/bin/bash", "-c"];

/**
 * Options of every phase command: a replaced command's delete runs before its replacement's create
 * (tc rules are reset before new ones go on, a registry is removed before it moves).
 */
export function replacedFirst(opts: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
  return { ...opts, deleteBeforeReplace: true };
}

/**
 * A phase's time limit on each of its commands (create, update and delete), as a transformation of the
 * phase component: the command plugin kills a command that outlives it and fails the update, saying so.
 * A `transformations` entry, run in the program, not a `transforms` one: @pulumi/pulumi 3.270 sends a
 * transform's props through an engine callback whose serializer drops secretness from values that carry
 * dependencies, so passwords.yml's text would be stored in clear.
 */
export function phaseTimeout(timeout: string): pulumi.ResourceTransformation {
  return ({ type, props, opts }) =>
    type.startsWith("command:")
      ? { props, opts: { ...opts, customTimeouts: { create: timeout, update: timeout, delete: timeout } } }
      : undefined;
}

/** A remote command line running `script` in bash, whatever the login shell of the host's user. */
export const remoteBash = (script: string) => `bash -c ${shellQuote(script)}`;

/**
 * A bash script that grows with the testbed, fed on stdin: the kernel caps one command-line argument
 * at 128 KiB, which a thousand hosts' rules or records exceed. Create and update run it, here or on a host.
 */
export const bashOnStdin = (script: pulumi.Input<string>) => ({ create: "bash -s", update: "bash -s", stdin: script });

/**
 * Why a remote command cannot reach `host` safely, if so: the command plugin would trust any host key
 * (of the host or of its jump host) without one, so a testbed that knows none must say so.
 */
export function connectionProblem(host: Host): string | undefined {
  const cannotCheck = "so a remote command cannot check whom it talks to";
  if (!host.hostKey) return `host ${host.alias}: the testbed knows no host key for ${host.address}, ${cannotCheck}`;
  if (host.jump === undefined) return keyProblem(host);
  if (!parseJump(host.jump)) return `host ${host.alias}: jump "${host.jump}" is not [user@]address[:port]`;
  if (!host.jumpHostKey) {
    return `host ${host.alias}: the testbed knows no host key for its jump host ${host.jump}, ${cannotCheck}`;
  }
  return keyProblem(host);
}

function keyProblem({ alias, keyfile }: Host): string | undefined {
  if (keyfile === undefined) return undefined;
  try {
    fs.accessSync(keyfile, fs.constants.R_OK);
    return undefined;
  } catch (error) {
    return `host ${alias}: cannot read its SSH key ${keyfile} (${(error as Error).message}); the testbed should have made it`;
  }
}

/**
 * remote.Command's connection to a host, as the testbed describes it: its key file's content (secret),
 * the host key the testbed pinned or probed, and its jump host (reached with the same key) as proxy.
 * Made inside an apply, where nothing may throw: a command using it depends on a precondition that
 * checked connectionProblem first, so a connection made for a host that fails it is never used.
 */
export function connectionOf(host: Host): types.input.remote.ConnectionArgs {
  const privateKey = host.keyfile === undefined ? undefined : pulumi.secret(readKey(host.keyfile));
  const jump = host.jump === undefined ? undefined : parseJump(host.jump);
  return {
    host: host.address,
    port: host.port ?? 22,
    user: host.user ?? "root",
    privateKey,
    hostKey: host.hostKey,
    proxy: jump && {
      host: jump.address,
      port: jump.port,
      user: jump.user ?? host.user ?? "root",
      privateKey,
      hostKey: host.jumpHostKey,
    },
  };
}

/** The key's text; nothing when it cannot be read, which connectionProblem reports. */
function readKey(keyfile: string): string {
  try {
    return fs.readFileSync(keyfile, "utf8");
  } catch {
    return "";
  }
}

/**
 * A file on this machine that lives as long as the stack: written (atomically, with its mode) on
 * create and update, removed on delete with its directory once empty; a new path replaces it.
 * `path` resolves once the file is written.
 */
export function localFile(
  name: string,
  args: { path: string; content: pulumi.Input<string>; mode?: number },
  opts: pulumi.CustomResourceOptions,
): { command: local.Command; path: pulumi.Output<string> } {
  const [file, tmp, dir] = [args.path, `${args.path}.tmp`, path.dirname(args.path)].map(shellQuote);
  const command = new local.Command(
    name,
    {
      // Never readable by others, not even for a moment: passwords.yml is one of these files.
      create: `umask 077 && mkdir -p ${dir} && cat > ${tmp} && chmod ${(args.mode ?? 0o644).toString(8)} ${tmp} && mv ${tmp} ${file}`,
      delete: `rm -f ${file}; rmdir ${dir} 2>/dev/null || true`,
      stdin: args.content,
      triggers: [args.path],
      logging: "none",
    },
    replacedFirst(opts),
  );
  return { command, path: command.stdout.apply(() => args.path) };
}

/**
 * Fails the update with `problem` as its message before anything that depends on it runs; passes
 * when `problem` is empty. A failed check records nothing, so it is checked again on the next update.
 */
export function precondition(
  name: string,
  problem: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): local.Command {
  return new local.Command(
    name,
    {
      create: `[ -z "$PROBLEM" ] || { printf '%s\\n' "$PROBLEM" >&2; exit 1; }`,
      environment: { PROBLEM: problem },
      logging: "none",
    },
    opts,
  );
}
