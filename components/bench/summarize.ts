import * as fs from "node:fs";
import * as path from "node:path";
import { type RallyReport, renderSummaryMarkdown, type SummaryRow, summarizeRun } from "../../workloads/rally-summary";

/** What the summary command hands this script (as a JSON file). */
export interface SummaryRequest {
  resultsDir: string;
  runs: { scenario: string; args: Record<string, unknown>; dir: string }[];
}

/** Writes results/<stack>/rally/summary.{json,md} from each run's results.json; returns the markdown's path. */
export function writeSummary(request: SummaryRequest): string {
  const rows: SummaryRow[] = request.runs.flatMap((run) => {
    const report: RallyReport = JSON.parse(
      fs.readFileSync(path.join(request.resultsDir, run.dir, "results.json"), "utf8"),
    );
    return summarizeRun(run, report);
  });
  const dir = path.join(request.resultsDir, "rally");
  fs.writeFileSync(path.join(dir, "summary.json"), `${JSON.stringify(rows, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, "summary.md"), renderSummaryMarkdown(rows));
  return path.join(dir, "summary.md");
}

if (require.main === module) {
  console.log(`Rally summary: ${writeSummary(JSON.parse(fs.readFileSync(process.argv[2], "utf8")))}`);
}
