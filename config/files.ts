/** Removes a directory the stack made once the last of its files is gone; keeps it otherwise. */
export function removeIfEmpty(dir: string): void {
  // Runs inside dynamic providers: ARCHITECTURE.md, "The serialization rule".
  const fs: typeof import("node:fs") = require("node:fs");
  try {
    fs.rmdirSync(dir);
  } catch (error) {
    if (!["ENOTEMPTY", "ENOENT", "EEXIST"].includes((error as NodeJS.ErrnoException).code ?? "")) throw error;
  }
}

/**
 * A directory only its owner can enter, for files that hold secrets (keys, passwords, backups):
 * made 0700 with its missing parents, and made 0700 if it was there already.
 */
export function privateDir(dir: string): void {
  // Called from dynamic providers too (see removeIfEmpty).
  const fs: typeof import("node:fs") = require("node:fs");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
}
