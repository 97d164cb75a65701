import * as fs from "node:fs";
import * as path from "node:path";
import { type RallyReport, renderSummaryMarkdown, type SummaryRow, summarizeRun } from "../../workloads/rally-summary";
import type { Stamp } from "./stamp";

/** What the summary command hands this script (as a JSON file). */
export interface SummaryRequest {
  resultsDir: string;
  /** The run directories of the workload's entries as they are now (their latest runs). */
  current: string[];
}

/** Every run directory under results/<stack>/rally (`<scenario>/<args>/<run>`, with a stamp.json), by name. */
function rallyRunDirs(resultsDir: string): string[] {
  const children = (dir: string) =>
    fs.existsSync(dir)
      ? fs
          .readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => path.join(dir, e.name))
          .sort()
      : [];
  return children(path.resolve(resultsDir, "rally"))
    .flatMap(children)
    .flatMap(children)
    .filter((dir) => fs.existsSync(path.join(dir, "stamp.json")));
}

/**
 * Writes results/<stack>/rally/summary.{json,md}: a row per Rally workload of every run there is (earlier
 * runs and entries no longer in run.yml too), each with its stamp; returns the markdown's path.
 */
export function writeSummary(request: SummaryRequest): string {
  const current = request.current.map((dir) => path.resolve(dir));
  // The workload's entries in run.yml's order, then those it no longer has; each entry's runs by time.
  const rank = (dir: string) => {
    const i = current.findIndex((c) => path.dirname(c) === path.dirname(dir));
    return i < 0 ? current.length : i;
  };
  const dirs = rallyRunDirs(request.resultsDir).sort((a, b) => rank(a) - rank(b));
  const rows: SummaryRow[] = [];
  const failed: string[] = [];
  for (const dir of dirs) {
    const relative = path.relative(request.resultsDir, dir);
    const results = path.join(dir, "results.json");
    // A run that failed before Rally reported (its rally.log says why) has nothing to summarize.
    if (!fs.existsSync(results)) {
      failed.push(relative);
      continue;
    }
    const stamp: Stamp = JSON.parse(fs.readFileSync(path.join(dir, "stamp.json"), "utf8"));
    const report: RallyReport = JSON.parse(fs.readFileSync(results, "utf8"));
    const run = { scenario: stamp.run.name, args: stamp.run.args, dir: relative };
    rows.push(...summarizeRun(run, report, { stamp, current: current.includes(dir) }));
  }
  const out = path.join(request.resultsDir, "rally");
  fs.writeFileSync(path.join(out, "summary.json"), `${JSON.stringify(rows, null, 2)}\n`);
  fs.writeFileSync(path.join(out, "summary.md"), renderSummaryMarkdown(rows, failed));
  return path.join(out, "summary.md");
}

if (require.main === module) {
  console.log(`Rally summary: ${writeSummary(JSON.parse(fs.readFileSync(process.argv[2], "utf8")))}`);
}
