import { asRoot, shellQuote } from "../../config/shell";
import type { Host } from "../../config/types";

/**
 * What a backup collects (docs/phases.md, Backup), decided without touching anything: per host one archive per
 * kind, named as Enos named them, each made by a shell script whose stdout is the .tar.gz; and the
 * benchmark results already on the operator machine.
 */

/** Exit status of a script whose source is absent on that host: noted in the index, not an error. */
export const MISSING = 3;

/** The host whose files stand for the operator machine in archive names and the index. */
export const OPERATOR = "operator";

interface RemoteArchive {
  kind: string;
  file: string;
  /** Writes the .tar.gz on stdout; exits MISSING with the reason on stderr when there is nothing to take. */
  script: string;
}

export interface LocalArchive {
  kind: string;
  file: string;
  /** Directory of results/<stack> archived as it is. */
  dir: string;
}

export interface HostBackup {
  alias: string;
  archives: RemoteArchive[];
}

interface BackupPlan {
  hosts: HostBackup[];
  local: LocalArchive[];
}

/** The InfluxDB of the monitoring phase, when it is on: which host runs it, in which container. */
export interface InfluxdbSource {
  alias: string;
  container: string;
}

/** The dev cloud standing in for Kolla's on a host: its logs and configs are that host's kolla-logs and kolla-conf. */
export interface DevCloudSource {
  alias: string;
  /** .pulumi-state/<stack>/dev-cloud: log/ and etc/ under it. */
  dir: string;
}

export interface BackupSources {
  hosts: Pick<Host, "alias" | "devices">[];
  /** results/<stack>: benchmark results live in its rally/ and shaker/ directories. */
  resultsDir: string;
  influxdb?: InfluxdbSource;
  devCloud?: DevCloudSource;
}

const PRELUDE = [
  "set -eo pipefail",
  `missing() { echo "$*" >&2; exit ${MISSING}; }`,
  // GNU tar exits 1 when a file changed while read (live logs): the archive is still whole.
  'targz() { tar --warning=no-file-changed -czf - "$@" || [ $? -eq 1 ]; }',
];

const script = (...lines: string[]) => [...PRELUDE, ...lines, ""].join("\n");

/**
 * A directory archived under its own name, e.g. /var/log/kolla as kolla/..., with what it holds even where it
 * is a link (kolla-ansible links /var/log/kolla to its kolla_logs volume).
 */
export function directoryScript(dir: string): string {
  const name = dir.slice(dir.lastIndexOf("/") + 1);
  return script(
    `[ -d ${shellQuote(dir)} ] || missing "${dir}: no such directory"`,
    `targz -C "$(readlink -f ${shellQuote(dir)})" --transform ${shellQuote(`s,^\\.,${name},`)} .`,
  );
}

/** Command outputs gathered into <name>/ in a temporary directory, then archived. */
function outputs(name: string, check: string[], commands: string[]): string {
  return script(
    ...check,
    `d=$(mktemp -d); trap 'rm -rf "$d"' EXIT; mkdir "$d/${name}"; cd "$d/${name}"`,
    ...commands,
    'cd "$d"',
    `targz ${name}`,
  );
}

const docker = outputs(
  "docker",
  [
    'command -v docker >/dev/null || missing "docker: not installed"',
    'docker info >/dev/null 2>&1 || missing "docker: no engine answering"',
  ],
  [
    "docker ps -a > ps.txt",
    // `docker inspect` of no container is an error: an empty list instead.
    'ids=$(docker ps -aq); if [ -n "$ids" ]; then docker inspect $ids > inspect.json; else echo "[]" > inspect.json; fi',
  ],
);

/** Every qdisc, class and filter with its counters, on each of the host's active interfaces. */
function tcState(devices: string[]): string {
  return outputs(
    "tc",
    ['command -v tc >/dev/null || missing "tc: not installed"'],
    devices.flatMap((dev) =>
      ["qdisc", "class", "filter"].map(
        (what) => `tc -s ${what} show dev ${shellQuote(dev)} > ${shellQuote(`${dev}-${what}.txt`)}`,
      ),
    ),
  );
}

/** A portable snapshot taken by the running server (consistent without stopping it), copied out of the container. */
function influxdb(container: string): string {
  const c = shellQuote(container);
  const snapshot = "/tmp/enos-influxdb-backup";
  return script(
    'command -v docker >/dev/null || missing "docker: not installed"',
    `[ "$(docker inspect -f '{{.State.Running}}' ${c} 2>/dev/null)" = true ] || missing "container ${container}: not running"`,
    `trap "docker exec ${c} rm -rf ${snapshot}" EXIT`,
    `docker exec ${c} sh -c 'rm -rf ${snapshot} && influxd backup -portable ${snapshot}' >&2`,
    // docker cp to stdout is a tar of the directory.
    `docker cp ${c}:${snapshot} - | gzip`,
  );
}

const archiveName = (host: string, kind: string) => `${host}-${kind}.tar.gz`;

export function planBackup({ hosts, resultsDir, influxdb: influx, devCloud }: BackupSources): BackupPlan {
  return {
    hosts: hosts.map((host) => {
      const cloud = devCloud?.alias === host.alias ? devCloud.dir : undefined;
      const kinds: [string, string][] = [
        ["kolla-logs", directoryScript(cloud ? `${cloud}/log` : "/var/log/kolla")],
        ["kolla-conf", directoryScript(cloud ? `${cloud}/etc` : "/etc/kolla")],
        ["docker", docker],
        ["tc", tcState(host.devices)],
        ...(influx?.alias === host.alias ? [["influxdb", influxdb(influx.container)] as [string, string]] : []),
      ];
      // Logs, /etc/kolla and Docker's socket are root's: a host reached as another user goes through sudo.
      return {
        alias: host.alias,
        archives: kinds.map(([kind, s]) => ({
          kind,
          file: archiveName(host.alias, kind),
          script: asRoot(`the backup (${kind})`, s),
        })),
      };
    }),
    local: ["rally", "shaker"].map((kind) => ({
      kind,
      file: archiveName(OPERATOR, kind),
      dir: `${resultsDir}/${kind}`,
    })),
  };
}

type ArchiveStatus = "collected" | "missing" | "failed";

export interface ArchiveResult {
  kind: string;
  file: string;
  status: ArchiveStatus;
  /** Size of the archive written, when collected. */
  bytes?: number;
  /** Why it is missing or failed. */
  detail?: string;
}

export interface HostResult {
  host: string;
  /** failed: the host could not be reached; its other archives were not tried. */
  status: "ok" | "failed";
  error?: string;
  archives: ArchiveResult[];
}

export interface BackupIndex {
  stack: string;
  timestamp: string;
  dir: string;
  hosts: HostResult[];
  failedHosts: string[];
}

/** A directory name that sorts by time and needs no quoting: 2026-11-25T03-10-00Z. */
export const backupDirName = (date: Date) =>
  date
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-");

const size = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 ** 2
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

/** One line a user reads after the backup: where it is, and which hosts failed. */
export function summarize(index: BackupIndex): string {
  const archives = index.hosts.flatMap((entry) => entry.archives);
  const count = (status: ArchiveStatus) => archives.filter((archive) => archive.status === status).length;
  const failed = index.hosts
    .filter((entry) => entry.status === "failed")
    .map((entry) => `${entry.host} (${entry.error})`);
  const hosts = index.hosts.filter((entry) => entry.host !== OPERATOR).length;
  return (
    `backup of ${hosts} hosts and this machine's bench results in ${index.dir}: ${count("collected")} archives, ${count("missing")} missing, ` +
    `${count("failed")} failed; ${failed.length ? `hosts failed: ${failed.join(", ")}` : "every host reached"}`
  );
}

export function renderIndexMarkdown(index: BackupIndex): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const rows = index.hosts.flatMap((entry) =>
    entry.status === "failed"
      ? [`| ${entry.host} | (host) | — | failed | ${cell(entry.error ?? "")} |`]
      : entry.archives.map(
          (archive) =>
            `| ${entry.host} | ${archive.kind} | ${archive.status === "collected" ? `${archive.file} (${size(archive.bytes ?? 0)})` : "—"} | ${archive.status} | ${cell(archive.detail ?? "")} |`,
        ),
  );
  return [
    `# Backup of ${index.stack}, ${index.timestamp}`,
    "",
    summarize(index),
    "",
    "| host | kind | archive (size) | status | detail |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}
