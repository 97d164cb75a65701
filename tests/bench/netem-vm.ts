import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDelay } from "../../config/units";
import { measureInVm } from "../netem-vm/harness";

export interface NetemBenchRow {
  mode: "plain" | "accurate";
  pairs: number;
  worstRttErrorMs: number;
  worstPair: string;
  applySeconds: number;
  verifySeconds: number;
  totalSeconds: number;
}

/** A four-group example in the netem VM: how far each pair's median RTT lands from the asked one. */
export async function benchNetemVm(accurate: boolean): Promise<NetemBenchRow> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-bench-vm-"));
  try {
    const run = await measureInVm(
      {
        topology: { grp1: { default: { control: 1, network: 1 } }, "grp[2-4]": { default: { compute: 1 } } },
        network_constraints: {
          enable: true,
          accurate,
          default_delay: "25ms",
          default_rate: "100mbit",
          default_loss: "0%",
          constraints: [{ src: "grp1", dst: "grp[2-4]", delay: "10ms", symetric: true }],
        },
      },
      dir,
    );
    const errors = run.verdicts.map((v) => ({
      pair: `${v.src}->${v.dst}`,
      error: Math.abs(parseFloat(v.rtt.measured) - parseDelay(v.rtt.asked.replace(" ", "")) / 1000),
    }));
    const worst = errors.reduce((a, b) => (b.error > a.error ? b : a));
    return {
      mode: accurate ? "accurate" : "plain",
      pairs: errors.length,
      worstRttErrorMs: worst.error,
      worstPair: worst.pair,
      applySeconds: run.applySeconds,
      verifySeconds: run.verifySeconds,
      totalSeconds: run.seconds,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
