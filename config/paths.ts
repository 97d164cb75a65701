import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The project directory (Pulumi.yaml, package.json), whether this runs from the sources or from dist/. */
export const PROJECT_DIR = path.resolve(
  __dirname,
  "..",
  path.basename(path.resolve(__dirname, "..")) === "dist" ? ".." : "",
);

/** A Pulumi project's state directory: local backend, passphrases of non-dev stacks, per-stack files. */
export const stateDirOf = (dir: string): string => path.join(dir, ".pulumi-state");

/** The project's state directory (that of its own stacks), which also holds PULUMI_HOME. */
export const STATE_DIR = stateDirOf(PROJECT_DIR);

/** The engine's PULUMI_HOME, one per clone (bin/pulumi sets it): the plugins scripts/install-plugins put there. */
export const PULUMI_HOME = path.join(STATE_DIR, "home");

/** Where setup and the phases cache what they build, for every clone on this machine. */
export const CACHE_DIR = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "enos-pulumi");

/** Where a stack's results go: results/<stack> of its experiment directory (see experimentDirOf). */
export const resultsDirOf = (projectDir: string, stack: string): string => path.join(projectDir, "results", stack);

/**
 * The directory of the enos Pulumi.yaml nearest up from `cwd` (the project, or an experiment directory
 * whose Pulumi.yaml runs this program: see cli/new.ts), as Pulumi finds a project; undefined when the
 * nearest Pulumi.yaml is another project's, or there is none.
 */
export function findExperimentDir(cwd: string): string | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const file = path.join(dir, "Pulumi.yaml");
    if (fs.existsSync(file)) return /^name:\s*enos\s*$/m.test(fs.readFileSync(file, "utf8")) ? dir : undefined;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The experiment directory a command run in `cwd` works on: its stack files, state and results; else the project. */
export const experimentDirOf = (cwd: string): string => findExperimentDir(cwd) ?? PROJECT_DIR;

/** A stack's Kolla config dir (multinode, globals.yml, passwords.yml, admin-openrc.sh), under a state dir. */
export const kollaConfigDirOf = (stateDir: string, stack: string): string => path.join(stateDir, stack, "kolla");
