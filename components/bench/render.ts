import * as path from "node:path";
import { PROJECT_DIR } from "../../config/paths";
import { shellQuote } from "../../config/shell";
import { type BenchRun, runDir } from "../../workloads/expand";
import { type ClientRoute, renderClientRoute } from "./client";
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
/** Shaker's agents connect back to its server on this port of the operator machine. */
export const SHAKER_PORT = 5999;

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

/** One Rally task with one element of the args product: its log, results.json and report.html; a new directory. */
export function renderRallyRunScript(run: BenchRun, id: RunIdentity, p: BenchPaths): string {
  const request = {
    config: rallyFiles(p).config,
    env: RALLY_ENV,
    task: path.join(p.workloadDir, run.file),
    args: run.args,
    pluginPaths: run.plugin ? [path.join(p.workloadDir, run.plugin)] : [],
    // Rally's tag: the task of this entry's fingerprint among the database's tasks.
    tags: [`enos-${id.fingerprint.slice(0, 16)}`],
  };
  return [
    "set -euo pipefail",
    newRunDir(run, id, p),
    ...(p.client ? renderClientRoute(p.client.route, p.client.sshConfig, path.join(p.bin, "python")) : []),
    `cat > "$out/request.json" <<'ENOS_JSON'\n${JSON.stringify(request, null, 2)}\nENOS_JSON`,
    `if ! ${rallyTask(p)} run "$out/request.json" > "$out/rally.log" 2>&1; then`,
    `  echo "rally failed for this run; its log is $out/rally.log:" >&2; tail -25 "$out/rally.log" >&2; exit 1`,
    "fi",
    `echo "$out"`,
    "",
  ].join("\n");
}

/**
 * One Shaker scenario alias. Its agents, booted in the cloud, connect back to the server Shaker runs
 * here: the endpoint is this machine's address on the route to the cloud's API.
 */
export function renderShakerRunScript(run: BenchRun, id: RunIdentity, p: BenchPaths & { openrc: string }): string {
  const shaker = path.join(p.shakerBin, "shaker");
  const venv = path.dirname(p.shakerBin);
  return [
    "set -euo pipefail",
    `[ -x ${shellQuote(shaker)} ] || { echo "shaker is not installed (${shaker}): python3 -m venv ${venv} && ${venv}/bin/pip install pyshaker==1.4.2 MarkupSafe==2.0.1" >&2; exit 1; }`,
    ...sourceOpenrc(p.openrc),
    `api=$(${shellQuote(path.join(p.bin, "python"))} -c 'import os, urllib.parse; print(urllib.parse.urlparse(os.environ["OS_AUTH_URL"]).hostname)')`,
    `address=$(ip -o route get "$api" | sed -n 's/.* src \\([0-9.]*\\).*/\\1/p')`,
    newRunDir(run, id, p),
    // The image and flavor Shaker's agents boot from; the builder reuses them when they exist.
    `${shellQuote(path.join(p.shakerBin, "shaker-image-builder"))} > "$out/image-builder.log" 2>&1`,
    `${shellQuote(shaker)} --server-endpoint "$address:${SHAKER_PORT}" --scenario ${shellQuote(run.file)} --external-net public` +
      ` --output "$out/results.json" --report "$out/report.html" > "$out/shaker.log" 2>&1`,
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
