import { expandRange } from "../../config/ranges";
import type { NetworkConstraintsConfig } from "../../config/schema";
import type { Host } from "../../config/types";
import { parseDelay, parseLoss, parseRate } from "../../config/units";
import { median } from "./validate";

/** What one ordered pair of groups gets, as the user wrote the values. */
export interface GroupRule {
  src: string;
  dst: string;
  delay: string;
  rate: string;
  loss: string;
}

/** A rule on a source host towards one destination host (a rate holds per host pair, as in Enos). */
export interface HostRule {
  dst: string;
  /** Every IPv4 address of the destination host. */
  ips: string[];
  delay: string;
  rate: string;
  loss: string;
}

export interface HostPlan {
  alias: string;
  devices: string[];
  rules: HostRule[];
}

const lossText = (loss: string | number) => (typeof loss === "number" ? `${loss}%` : loss);

/**
 * Enos' semantics: defaults on every ordered pair of distinct groups, except pairs touching an
 * `except` group; a constraint overrides the pairs it names (both ways when symmetric); a constraint
 * for a pair without a default is ignored; `enable: false` means no rule at all.
 */
export function planGroupRules(
  groups: string[],
  nc: Pick<
    NetworkConstraintsConfig,
    "enable" | "default_delay" | "default_rate" | "default_loss" | "constraints" | "except"
  >,
): GroupRule[] {
  if (!nc.enable) return [];
  const excepted = new Set(nc.except.flatMap(expandRange));
  const rules = new Map<string, GroupRule>();
  const key = (src: string, dst: string) => `${src}\u0000${dst}`;
  for (const src of groups) {
    for (const dst of groups) {
      if (src === dst || excepted.has(src) || excepted.has(dst)) continue;
      rules.set(key(src, dst), {
        src,
        dst,
        delay: nc.default_delay,
        rate: nc.default_rate,
        loss: lossText(nc.default_loss),
      });
    }
  }
  for (const c of nc.constraints) {
    const symmetric = c.symetric ?? c.symmetric ?? false;
    for (const src of expandRange(c.src)) {
      for (const dst of expandRange(c.dst)) {
        for (const [a, b] of symmetric
          ? [
              [src, dst],
              [dst, src],
            ]
          : [[src, dst]]) {
          const rule = rules.get(key(a, b));
          if (!rule) continue;
          if (c.delay !== undefined) rule.delay = c.delay;
          if (c.rate !== undefined) rule.rate = c.rate;
          if (c.loss !== undefined) rule.loss = lossText(c.loss);
        }
      }
    }
  }
  return [...rules.values()];
}

/** Group rules become, on each host of the source group, one rule per host of the destination group. */
export function planHostRules(hosts: Host[], groupRules: GroupRule[]): HostPlan[] {
  return hosts.map((host) => ({
    alias: host.alias,
    devices: host.devices,
    rules: groupRules
      .filter((rule) => host.groups.includes(rule.src))
      .flatMap((rule) =>
        hosts
          .filter((other) => other !== host && other.groups.includes(rule.dst))
          .map((other) => ({ dst: other.alias, ips: other.ips, delay: rule.delay, rate: rule.rate, loss: rule.loss })),
      ),
  }));
}

/** Key of an ordered group pair in maps of measurements. */
export const pairKey = (src: string, dst: string) => `${src}>${dst}`;

/** What one pair's base-RTT probe gave: the round trips that came back, and what the probe printed. */
export interface BaseRttSample {
  src: string;
  dst: string;
  from: string;
  to: string;
  probes: number;
  rttsMs: number[];
  output: string;
}

/**
 * Median base RTT per ordered group pair. A pair with no reply at all has no base RTT: it is named
 * in `problems` with what its probe printed, instead of a NaN delay further down.
 */
export function baseRtts(samples: BaseRttSample[]): { rttMs: Record<string, number>; problems: string[] } {
  const problems = samples
    .filter((sample) => sample.rttsMs.length === 0)
    .map(
      (sample) =>
        `${sample.src} -> ${sample.dst}: no base RTT, none of ${sample.probes} probes from ${sample.from} to ${sample.to} got a reply (the probe printed: ${sample.output.trim().split("\n").slice(-3).join(" / ") || "nothing"})`,
    );
  const rttMs = Object.fromEntries(
    samples
      .filter((sample) => sample.rttsMs.length > 0)
      .map((sample) => [pairKey(sample.src, sample.dst), median(sample.rttsMs)]),
  );
  return { rttMs, problems };
}

/**
 * Accurate mode: the network between two groups already takes some round trip before any rule; each
 * direction's delay is lowered by half of that base RTT so that the end-to-end delay is the one asked.
 * A pair whose half base RTT exceeds the delay asked cannot be made accurate: it is named in `problems`.
 */
export function accurateRules(
  rules: GroupRule[],
  baseRttMs: Record<string, number>,
): { rules: GroupRule[]; problems: string[] } {
  const problems: string[] = [];
  const adjusted = rules.map((rule) => {
    const askedUs = parseDelay(rule.delay);
    const base = baseRttMs[pairKey(rule.src, rule.dst)] ?? baseRttMs[pairKey(rule.dst, rule.src)];
    if (askedUs === 0 || base === undefined) return rule;
    const halfBaseUs = (base * 1000) / 2;
    if (halfBaseUs > askedUs) {
      problems.push(
        `${rule.src} -> ${rule.dst}: ${rule.delay} asked, but the network alone already takes ${(halfBaseUs / 1000).toFixed(3)} ms each way (base RTT ${base.toFixed(3)} ms)`,
      );
      return rule;
    }
    return { ...rule, delay: `${Math.round(askedUs - halfBaseUs)}us` };
  });
  return { rules: adjusted, problems };
}

/** Whether a rule needs netem: a delay or a loss that is not zero. */
export function needsNetem(rule: { delay: string; loss: string }): boolean {
  return parseDelay(rule.delay) > 0 || parseLoss(rule.loss) > 0;
}

/** Rates as bits per second, for reports. */
export const rateBits = (rule: { rate: string }) => parseRate(rule.rate);
