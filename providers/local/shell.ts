/**
 * Runs a bash script (strict mode) on this machine and resolves with its stdout; rejects with its
 * stderr and the script. Runs inside dynamic providers: ARCHITECTURE.md, "The serialization rule".
 */
export async function sh(script: string): Promise<string> {
  const { execFile }: typeof import("node:child_process") = require("node:child_process");
  return new Promise((resolve, reject) =>
    execFile("bash", ["-euo", "pipefail", "-c", script], (error, stdout, stderr) =>
      error ? reject(new Error(`${stderr.trim() || error.message}\nwhile running:\n${script}`)) : resolve(stdout),
    ),
  );
}
