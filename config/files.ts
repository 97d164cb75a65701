/** Removes a directory the stack made once the last of its files is gone; keeps it otherwise. */
export function removeIfEmpty(dir: string): void {
  // Called from dynamic providers, which are serialized: require node modules inside.
  const fs: typeof import("node:fs") = require("node:fs");
  try {
    fs.rmdirSync(dir);
  } catch (error) {
    if (!["ENOTEMPTY", "ENOENT", "EEXIST"].includes((error as NodeJS.ErrnoException).code ?? "")) throw error;
  }
}
