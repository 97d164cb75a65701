import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";

/** Finds a file from a directory upwards, as npm does for package.json and the lock file. */
export function searchUp(dir: string, name: string): string | undefined {
  for (let current = dir; ; current = path.dirname(current)) {
    if (fs.existsSync(path.join(current, name))) return path.join(current, name);
    if (path.dirname(current) === current) return undefined;
  }
}

/**
 * The program's dependencies: from package-lock.json like the official host, else (no lock file, e.g. a
 * linked node_modules) the versions installed for package.json's own dependencies.
 */
export function programDependencies(programDir: string, transitive: boolean): { name: string; version: string }[] {
  const manifest = searchUp(programDir, "package.json");
  if (!manifest) throw new Error(`no package.json in ${programDir} or above: a nodejs program needs one`);
  const { dependencies = {}, devDependencies = {} } = JSON.parse(fs.readFileSync(manifest, "utf8"));
  const direct = new Set([...Object.keys(dependencies), ...Object.keys(devDependencies)]);
  const lockFile = path.join(path.dirname(manifest), "package-lock.json");
  if (fs.existsSync(lockFile)) {
    const lock = JSON.parse(fs.readFileSync(lockFile, "utf8"));
    const packages: Record<string, { version?: string }> = lock.packages ?? {};
    // Keys are install paths: node_modules/a, node_modules/a/node_modules/b (a nested copy of b).
    const installed = Object.entries(packages).flatMap(([key, { version }]) => {
      const name = key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
      const wanted = transitive ? key.startsWith("node_modules/") : key === `node_modules/${name}` && direct.has(name);
      return wanted && version ? [{ name, version }] : [];
    });
    return installed.filter(
      (dep, i) => installed.findIndex((d) => d.name === dep.name && d.version === dep.version) === i,
    );
  }
  const requireFromManifest = createRequire(manifest);
  return [...direct].map((name) => {
    try {
      return { name, version: requireFromManifest(`${name}/package.json`).version };
    } catch {
      return { name, version: "not installed" };
    }
  });
}
