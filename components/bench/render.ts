import * as path from "node:path";
import { PROJECT_DIR } from "../../config/paths";
import { shellQuote } from "../../config/shell";
import { type BenchRun, runDir } from "../../workloads/expand";
import { type ClientRoute, renderAgentEndpoint, renderClientRoute } from "./client";
import type { StampRequest } from "./stamp";

/** Everything a benchmark script needs to know of where things are. */
export interface BenchPaths {
  /** The venv's bin directory (rally, python). */
  bin: string;
  /** Shaker's venv's bin directory: pyshaker needs Jinja2 < 3, which ansible-core cannot use. */
  shakerBin: string;
  workloadDir: string;
  /** results/<stack> */
  resultsDir: string;
  /** An admin-openrc file; absent on a stack without OpenStack. */
  openrc?: string;
  /** results/<stack>/conditions.json: what the runs are measured under (components/bench/stamp.ts). */
  conditions: string;
  /** How the clients reach the VIPs (components/bench/client.ts); direct when absent. */
  client?: { route: ClientRoute; sshConfig: string };
}

/** What names and triggers a run: the stack's run id and the run's fingerprint. */
export interface RunIdentity {
  runId: string | null;
  fingerprint: string;
}

/** The Rally environment every task of the stack runs in. */
export const RALLY_ENV = "enos";

/** Rally's own state lives beside the results: its database and config. */
const rallyFiles = (p: BenchPaths) => {
  const dir = path.join(p.resultsDir, "rally");
  return { dir, config: path.join(dir, "rally.conf"), database: path.join(dir, "rally.sqlite") };
};

/** Rally's Python API in one process per step (components/bench/rally_task.py). */
const rallyTask = (p: BenchPaths) =>
  `${shellQuote(path.join(p.bin, "python"))} ${shellQuote(path.join(PROJECT_DIR, "components", "bench", "rally_task.py"))}`;

const sourceOpenrc = (openrc: string | undefined) => (openrc ? [`set -a; source ${shellQuote(openrc)}; set +a`] : []);

/**
 * A fresh Rally database and its environment: from the admin-openrc (rally-openstack reads the OS_*
 * variables) or empty, which is all Rally's Dummy scenarios need. Prints the environment's uuid.
 */
export function renderRallyEnvScript(p: BenchPaths): string {
  const files = rallyFiles(p);
  return [
    "set -euo pipefail",
    // Rally's database keeps the admin-openrc's password (env --from-sysenv): its owner's only.
    "umask 077",
    `mkdir -p ${shellQuote(files.dir)} && chmod 700 ${shellQuote(files.dir)}`,
    `printf '[database]\\nconnection = sqlite:///%s\\n' ${shellQuote(files.database)} > ${shellQuote(files.config)}`,
    `rm -f ${shellQuote(files.database)}`,
    ...sourceOpenrc(p.openrc),
    `${rallyTask(p)} env ${shellQuote(files.config)} ${RALLY_ENV}${p.openrc ? " --from-sysenv" : ""}`,
    "",
  ].join("\n");
}

/**
 * A new directory for this run beside the entry's earlier runs (stamp.ts names it by time and run id,
 * and stamps it), in $out.
 */
function newRunDir(run: BenchRun, id: RunIdentity, p: BenchPaths): string {
  const request: StampRequest = { conditions: p.conditions, base: path.join(p.resultsDir, runDir(run)), run, ...id };
  const stamp = shellQuote(path.join(__dirname, "stamp.js"));
  return `out=$(node ${stamp} /dev/stdin <<'ENOS_JSON'\n${JSON.stringify(request)}\nENOS_JSON\n)`;
}

/** Bash that runs command with its output in $out/<log>; on failure it stops, showing the log's last lines. */
function orShowLog(what: string, command: string, log: string): string[] {
  const file = `"$out/${log}"`;
  return [
    `if ! ${command} > ${file} 2>&1; then`,
    `  echo "${what} failed for this run; its log is $out/${log}:" >&2; tail -25 ${file} >&2; exit 1`,
    "fi",
  ];
}

/** One Rally task with one element of the args product: its log, results.json and report.html; a new directory. */
export function renderRallyRunScript(run: BenchRun, id: RunIdentity, p: BenchPaths): string {
  const request = {
    config: rallyFiles(p).config,
    env: RALLY_ENV,
    task: path.resolve(p.workloadDir, run.file),
    args: run.args,
    pluginPaths: run.plugin ? [path.resolve(p.workloadDir, run.plugin)] : [],
    // Rally's tag: the task of this entry's fingerprint among the database's tasks.
    tags: [`enos-${id.fingerprint.slice(0, 16)}`],
  };
  return [
    "set -euo pipefail",
    newRunDir(run, id, p),
    ...(p.client ? renderClientRoute(p.client.route, p.client.sshConfig, path.join(p.bin, "python")) : []),
    `cat > "$out/request.json" <<'ENOS_JSON'\n${JSON.stringify(request, null, 2)}\nENOS_JSON`,
    ...orShowLog("rally", `${rallyTask(p)} run "$out/request.json"`, "rally.log"),
    `echo "$out"`,
    "",
  ].join("\n");
}

/**
 * One Shaker scenario alias. Shaker runs here, reaching the cloud's APIs as Rally does (client.ts); its
 * agents, booted in the cloud, connect back to its server at the endpoint client.ts gives them.
 */
export function renderShakerRunScript(run: BenchRun, id: RunIdentity, p: BenchPaths & { openrc: string }): string {
  const shaker = path.join(p.shakerBin, "shaker");
  const venv = path.dirname(p.shakerBin);
  return [
    "set -euo pipefail",
    `[ -x ${shellQuote(shaker)} ] || { echo "shaker is not installed (${shaker}): python3 -m venv ${venv} && ${venv}/bin/pip install pyshaker==1.4.2 MarkupSafe==2.0.1 PySocks==1.7.1" >&2; exit 1; }`,
    ...sourceOpenrc(p.openrc),
    `api=$(${shellQuote(path.join(p.bin, "python"))} -c 'import os, urllib.parse; print(urllib.parse.urlparse(os.environ["OS_AUTH_URL"]).hostname)')`,
    newRunDir(run, id, p),
    ...(p.client ? renderClientRoute(p.client.route, p.client.sshConfig, path.join(p.shakerBin, "python")) : []),
    ...renderAgentEndpoint(p.client),
    // The image and flavor Shaker's agents boot from; the builder reuses them when they exist.
    ...orShowLog(
      "shaker-image-builder",
      shellQuote(path.join(p.shakerBin, "shaker-image-builder")),
      "image-builder.log",
    ),
    ...orShowLog(
      "shaker",
      `${shellQuote(shaker)} --server-endpoint "$endpoint" --scenario ${shellQuote(run.file)} --external-net public` +
        ` --output "$out/results.json" --report "$out/report.html"`,
      "shaker.log",
    ),
    // Shaker exits 0 even when it could not deploy its agents: then every record is an error.
    `${shellQuote(path.join(p.bin, "python"))} - "$out/results.json" <<'ENOS_PY'`,
    "import json, sys",
    'records = list(json.load(open(sys.argv[1]))["records"].values())',
    'if not records or all(r.get("status") == "error" for r in records):',
    '    sys.exit("shaker measured nothing: " + "; ".join(sorted({r.get("stderr", "no record") for r in records})))',
    "ENOS_PY",
    `echo "$out"`,
    "",
  ].join("\n");
}
