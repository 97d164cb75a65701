import * as os from "node:os";
import * as path from "node:path";

/** The project directory (Pulumi.yaml, package.json), whether this runs from the sources or from dist/. */
export const PROJECT_DIR = path.resolve(
  __dirname,
  "..",
  path.basename(path.resolve(__dirname, "..")) === "dist" ? ".." : "",
);

/** The project's state directory: local backend, PULUMI_HOME, passphrases of non-dev stacks, per-stack files. */
export const STATE_DIR = path.join(PROJECT_DIR, ".pulumi-state");

/** The engine's PULUMI_HOME, one per clone (bin/pulumi sets it): the plugins scripts/install-plugins put there. */
export const PULUMI_HOME = path.join(STATE_DIR, "home");

/** Where setup and the phases cache what they build, for every clone on this machine. */
export const CACHE_DIR = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "enos-pulumi");

/** Where a stack's results go: results/<stack> of the project. */
export const resultsDirOf = (projectDir: string, stack: string): string => path.join(projectDir, "results", stack);

/** A stack's Kolla config dir (multinode, globals.yml, passwords.yml, admin-openrc.sh), under a state dir. */
export const kollaConfigDirOf = (stateDir: string, stack: string): string => path.join(stateDir, stack, "kolla");
