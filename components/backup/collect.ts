import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { privateDir } from "../../config/files";
import {
  type ArchiveResult,
  type BackupIndex,
  type BackupSources,
  backupDirName,
  type HostBackup,
  type HostResult,
  type LocalArchive,
  MISSING,
  OPERATOR,
  planBackup,
  renderIndexMarkdown,
  summarize,
} from "./plan";

export interface BackupRequest extends BackupSources {
  stack: string;
  /** The experiment's ssh_config (every host reachable by alias). */
  sshConfig: string;
  /** Where the timestamped backups go; default <resultsDir>/backup (enos backup --backup_dir). */
  backupDir?: string;
}

/** ssh's own status when it cannot reach the host (the remote command's status otherwise). */
const SSH_FAILED = 255;

const tail = (text: string) => text.trim().split("\n").slice(-5).join("\n");

/** Runs a command whose stdout goes to `file` (renamed into place only when it succeeds). */
function runInto(
  file: string,
  command: string,
  args: string[],
  stdin?: string,
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const partial = `${file}.part`;
    // The archives hold the hosts' configuration, service passwords included.
    const out = fs.createWriteStream(partial, { mode: 0o600 });
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stdout.pipe(out);
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("error", (error) => (stderr += error.message));
    child.on("close", (code) =>
      out.end(() => {
        if (code === 0) fs.renameSync(partial, file);
        else fs.rmSync(partial, { force: true });
        resolve({ code: code ?? 1, stderr });
      }),
    );
    // ssh that cannot connect exits without reading the script: its status tells, not the broken pipe.
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin ?? "");
  });
}

function result(kind: string, file: string, dir: string, code: number, stderr: string): ArchiveResult {
  if (code === 0) return { kind, file, status: "collected", bytes: fs.statSync(path.join(dir, file)).size };
  return { kind, file, status: code === MISSING ? "missing" : "failed", detail: tail(stderr) || `exit code ${code}` };
}

/** One SSH session per archive, in turn; the first one that cannot reach the host fails the host. */
async function collectHost(sshConfig: string, host: HostBackup, dir: string): Promise<HostResult> {
  const archives: ArchiveResult[] = [];
  for (const { kind, file, script } of host.archives) {
    const { code, stderr } = await runInto(
      path.join(dir, file),
      "ssh",
      ["-F", sshConfig, host.alias, "bash -s"],
      script,
    );
    if (code === SSH_FAILED)
      return { host: host.alias, status: "failed", error: tail(stderr) || "ssh failed", archives };
    archives.push(result(kind, file, dir, code, stderr));
  }
  return { host: host.alias, status: "ok", archives };
}

async function collectLocal(archives: LocalArchive[], dir: string): Promise<HostResult> {
  const results: ArchiveResult[] = [];
  for (const { kind, file, dir: source } of archives) {
    if (!fs.existsSync(source)) {
      results.push({ kind, file, status: "missing", detail: `${source}: no such directory` });
      continue;
    }
    const { code, stderr } = await runInto(path.join(dir, file), "tar", [
      "-czf",
      "-",
      "-C",
      path.dirname(source),
      path.basename(source),
    ]);
    results.push(result(kind, file, dir, code, stderr));
  }
  return { host: OPERATOR, status: "ok", archives: results };
}

/**
 * Collects every host's archives, hosts in parallel, into <backupDir>/<timestamp>/ with
 * index.json and index.md. A missing source or a failing host is recorded; the others still are collected.
 */
export async function runBackup(request: BackupRequest, now = new Date()): Promise<BackupIndex> {
  const timestamp = backupDirName(now);
  const dir = path.join(request.backupDir ?? path.join(request.resultsDir, "backup"), timestamp);
  privateDir(dir);
  const plan = planBackup(request);
  const hosts = await Promise.all(plan.hosts.map((host) => collectHost(request.sshConfig, host, dir)));
  hosts.push(await collectLocal(plan.local, dir));
  const index: BackupIndex = {
    stack: request.stack,
    timestamp,
    dir,
    hosts,
    failedHosts: hosts.filter((result) => result.status === "failed").map((result) => result.host),
  };
  fs.writeFileSync(path.join(dir, "index.json"), `${JSON.stringify(index, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, "index.md"), renderIndexMarkdown(index));
  return index;
}

/**
 * Run by the backup-on-destroy command: `node collect.js <request.json>`. It exits 0 once the index
 * is written, even with hosts failed (they are in it): an unreachable host must not keep the others
 * from being released.
 */
if (require.main === module) {
  const request: BackupRequest = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  runBackup(request).then(
    (index) => console.log(summarize(index)),
    (error) => {
      console.error(error.message ?? error);
      process.exit(1);
    },
  );
}
