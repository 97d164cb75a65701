import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** The PIDs of the processes in a network namespace. */
export const namespacePids = (namespace: string): string[] =>
  execFileSync("ip", ["netns", "pids", namespace], { encoding: "utf8" }).split("\n").filter(Boolean);

/** A process's /proc file (environ, cmdline), or "" once it is gone. */
const procFile = (pid: string, file: string) => {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return "";
  }
};

/** "PID COMMAND: environ|cmdline" for each process of `pids` whose environment or command line holds `secret`. */
export function holdingSecret(pids: string[], secret: string, files = ["environ", "cmdline"]): string[] {
  return pids.flatMap((pid) =>
    files
      .filter((file) => procFile(pid, file).includes(secret))
      .map((file) => `${pid} ${procFile(pid, "comm").trim()}: ${file}`),
  );
}

/**
 * What in a dev cloud's directory others could reach: a directory not 0700, or a file that holds a
 * secret (configs, keys, the database, the admin-openrc, Erlang's cookie) readable by anyone but its owner.
 */
export function exposedFiles(dir: string): string[] {
  const secretHolders = ["etc", "keys", "mysql", "admin-openrc.sh", ".erlang.cookie"].map((name) =>
    path.join(dir, name),
  );
  const exposed: string[] = [];
  const walk = (file: string) => {
    const stat = fs.lstatSync(file);
    const mode = (stat.mode & 0o777).toString(8);
    if (stat.isDirectory()) {
      if (mode !== "700") exposed.push(`${file} (directory ${mode})`);
      for (const name of fs.readdirSync(file)) walk(path.join(file, name));
    } else if (
      stat.isFile() &&
      (stat.mode & 0o077) !== 0 &&
      secretHolders.some((s) => file === s || file.startsWith(`${s}/`))
    ) {
      exposed.push(`${file} (${mode})`);
    }
  };
  walk(dir);
  return exposed;
}
