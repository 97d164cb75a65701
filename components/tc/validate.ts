import { parseDelay, parseLoss, parseRate } from "../../config/units";
import type { GroupRule } from "./plan";

/** What was measured from one sample host of `src` to one of `dst`. */
export interface PairMeasurement {
  src: string;
  dst: string;
  from: string;
  to: string;
  /** Round-trip times of the probes that came back, in ms. */
  rttsMs: number[];
  probes: number;
  /** iperf3's received goodput, bit/s, where a rate was asked. */
  goodputBits?: number;
}

export interface Check {
  ok: boolean;
  asked: string;
  measured: string;
  tolerance: string;
}

export interface PairVerdict {
  src: string;
  dst: string;
  from: string;
  to: string;
  rtt: Check;
  loss: Check;
  rate?: Check;
}

/** TCP over 1500-byte Ethernet frames: 1448 bytes of payload for 1514 on the wire (timestamps on). */
export const WIRE_PER_GOODPUT = 1514 / 1448;

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** P(X <= k) for X ~ Binomial(n, p), summed term by term. */
function binomialCdf(k: number, n: number, p: number): number {
  if (p <= 0) return 1;
  if (p >= 1) return k >= n ? 1 : 0;
  let term = (1 - p) ** n;
  let sum = term;
  for (let i = 0; i < k; i++) {
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
    sum += term;
  }
  return Math.min(1, sum);
}

/**
 * The exact (Clopper-Pearson) interval of a proportion observed as k out of n, at the given level:
 * exact rather than approximate because losses are small counts, where approximations are too narrow.
 */
export function lossInterval(k: number, n: number, level = 0.99): [number, number] {
  const tail = (1 - level) / 2;
  const solve = (f: (p: number) => number) => {
    let [lo, hi] = [0, 1];
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (f(mid) > 0) hi = mid;
      else lo = mid;
    }
    return (lo + hi) / 2;
  };
  // Lower: P(X >= k | p) = tail; upper: P(X <= k | p) = tail.
  const lower = k === 0 ? 0 : solve((probability) => 1 - binomialCdf(k - 1, n, probability) - tail);
  const upper = k === n ? 1 : solve((probability) => tail - binomialCdf(k, n, probability));
  return [lower, upper];
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

/**
 * Asked vs measured for one ordered group pair. A round trip crosses src->dst's and dst->src's
 * rules: its added delay is the sum of both delays and its loss compounds both. The unshaped round
 * trip (well under a millisecond on a LAN) is left to the tolerance's 1 ms.
 */
export function judgePair(m: PairMeasurement, rules: GroupRule[]): PairVerdict {
  const there = rules.find((r) => r.src === m.src && r.dst === m.dst);
  const back = rules.find((r) => r.src === m.dst && r.dst === m.src);
  const delayMs = (r?: GroupRule) => (r ? parseDelay(r.delay) / 1000 : 0);
  const lossOf = (r?: GroupRule) => (r ? parseLoss(r.loss) / 100 : 0);

  const askedRtt = delayMs(there) + delayMs(back);
  const rttTolerance = 1 + 0.05 * askedRtt;
  const measuredRtt = m.rttsMs.length ? median(m.rttsMs) : NaN;
  const rtt: Check = {
    ok: Math.abs(measuredRtt - askedRtt) <= rttTolerance,
    asked: `${fmt(askedRtt, 2)} ms`,
    measured: m.rttsMs.length ? `${fmt(measuredRtt, 2)} ms (median of ${m.rttsMs.length})` : "no reply",
    tolerance: `±(1 ms + 5%) = ±${fmt(rttTolerance, 2)} ms`,
  };

  const askedLoss = 1 - (1 - lossOf(there)) * (1 - lossOf(back));
  const lost = m.probes - m.rttsMs.length;
  const [low, high] = lossInterval(lost, m.probes);
  const loss: Check = {
    ok: askedLoss >= low && askedLoss <= high,
    asked: `${fmt(askedLoss * 100, 2)}% round trip`,
    measured: `${fmt((lost / m.probes) * 100, 2)}% (${lost}/${m.probes})`,
    tolerance: `99% interval [${fmt(low * 100, 2)}%, ${fmt(high * 100, 2)}%]`,
  };

  const verdict: PairVerdict = { src: m.src, dst: m.dst, from: m.from, to: m.to, rtt, loss };
  if (there && m.goodputBits !== undefined) {
    const asked = parseRate(there.rate);
    const wire = m.goodputBits * WIRE_PER_GOODPUT;
    verdict.rate = {
      ok: Math.abs(wire - asked) <= 0.05 * asked,
      asked: `${fmt(asked / 1e6, 2)} Mbit/s`,
      measured: `${fmt(wire / 1e6, 2)} Mbit/s (goodput ${fmt(m.goodputBits / 1e6, 2)} × 1514/1448)`,
      tolerance: "±5%",
    };
  }
  return verdict;
}

export function renderMarkdown(stack: string, verdicts: PairVerdict[]): string {
  const mark = (c?: Check) => (c ? `${c.ok ? "pass" : "**FAIL**"}` : "-");
  const rows = verdicts.map(
    (verdict) =>
      `| ${verdict.src} → ${verdict.dst} | ${verdict.from} → ${verdict.to} | ${verdict.rtt.asked} | ${verdict.rtt.measured} | ${mark(verdict.rtt)} | ` +
      `${verdict.rate?.asked ?? "-"} | ${verdict.rate?.measured ?? "-"} | ${mark(verdict.rate)} | ${verdict.loss.asked} | ${verdict.loss.measured} | ${mark(verdict.loss)} |`,
  );
  const failed = verdicts.filter(
    (verdict) => !verdict.rtt.ok || !verdict.loss.ok || (verdict.rate && !verdict.rate.ok),
  ).length;
  return [
    `# Network emulation check: stack ${stack}`,
    "",
    `${verdicts.length - failed} of ${verdicts.length} group pairs pass.`,
    "",
    "- RTT: fping median between one sample host of each group; asked = both directions' delays; tolerance ±(1 ms + 5%), whose 1 ms also covers the unshaped round trip.",
    "- Rate: iperf3 received goodput corrected to wire rate × 1514/1448 (1500-byte MTU, TCP timestamps); tolerance ±5%.",
    "- Loss: fping probes lost over the round trip (both directions' loss compounded); pass if the asked loss lies in the exact 99% binomial (Clopper-Pearson) interval of what was measured.",
    "",
    "| groups | hosts | asked RTT | measured RTT | | asked rate | measured rate | | asked loss | measured loss | |",
    "| --- | --- | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | --- |",
    ...rows,
    "",
  ].join("\n");
}

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");

/** Two group matrices (rate, RTT) with asked / measured in each cell, green when it passes. */
export function renderSvg(groups: string[], verdicts: PairVerdict[]): string {
  const cell = 150;
  const head = 90;
  const width = head + groups.length * cell;
  const matrix = (title: string, x0: number, pick: (v: PairVerdict) => Check | undefined) => {
    const parts = [`<text x="${x0 + width / 2}" y="24" font-size="18" text-anchor="middle">${title}</text>`];
    groups.forEach((group, i) => {
      parts.push(
        `<text x="${x0 + head + i * cell + cell / 2}" y="${head - 10}" text-anchor="middle">to ${escapeXml(group)}</text>`,
      );
      parts.push(
        `<text x="${x0 + head - 8}" y="${head + i * cell + cell / 2}" text-anchor="end">${escapeXml(group)}</text>`,
      );
    });
    for (const [r, src] of groups.entries()) {
      for (const [c, dst] of groups.entries()) {
        const check = verdicts.find((verdict) => verdict.src === src && verdict.dst === dst);
        const shown = check && pick(check);
        const fill = !shown ? "#eeeeee" : shown.ok ? "#c8e6c9" : "#ffcdd2";
        const x = x0 + head + c * cell;
        const y = head + r * cell;
        parts.push(`<rect x="${x}" y="${y}" width="${cell - 4}" height="${cell - 4}" fill="${fill}" stroke="#999"/>`);
        if (shown) {
          parts.push(`<text x="${x + 8}" y="${y + 40}">asked ${escapeXml(shown.asked)}</text>`);
          parts.push(`<text x="${x + 8}" y="${y + 70}">got ${escapeXml(shown.measured.split(" (")[0])}</text>`);
          parts.push(`<text x="${x + 8}" y="${y + 100}" font-weight="bold">${shown.ok ? "pass" : "FAIL"}</text>`);
        }
      }
    }
    return parts.join("\n");
  };
  const height = head + groups.length * cell + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * width + 40}" height="${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    matrix("Rate (per host pair)", 0, (verdict) => verdict.rate),
    matrix("Round-trip time", width + 40, (verdict) => verdict.rtt),
    "</svg>",
    "",
  ].join("\n");
}
