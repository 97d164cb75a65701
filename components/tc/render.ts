import { asRoot } from "../../config/shell";
import { parseDelay, parseLoss } from "../../config/units";
import { type HostPlan, type HostRule, needsNetem } from "./plan";

/**
 * Class minor ids and handles are hexadecimal to tc. The root is handle 1: or 2: (see
 * renderApplyScript); class minor n's netem leaf is handle n+2, clear of both.
 */
export const MAX_CLASSES = 0xfffd;

const hex = (n: number) => n.toString(16);

function netemArgs(rule: HostRule): string {
  const parts = [];
  if (parseDelay(rule.delay) > 0) parts.push(`delay ${rule.delay}`);
  if (parseLoss(rule.loss) > 0) parts.push(`loss ${rule.loss}`);
  return parts.join(" ");
}

/** Hosts whose plan needs more classes than tc allows, as one message; nothing when all fit. */
export function classProblems(plans: HostPlan[]): string | undefined {
  const over = plans
    .filter((plan) => plan.rules.length > MAX_CLASSES)
    .map(
      ({ alias, rules, devices }) =>
        `  - ${alias}: ${rules.length} destination hosts need ${rules.length} tc classes on ${devices.join(", ")}; ` +
        `tc allows at most ${MAX_CLASSES} (0x${hex(MAX_CLASSES)})`,
    );
  return over.length
    ? `network emulation has too many destinations; no host was changed:\n${over.join("\n")}`
    : undefined;
}

/**
 * One `tc -batch` for one device (classProblems says when the rules do not fit): an htb root (unclassified traffic is not shaped), one class per
 * destination host, a netem leaf where delay or loss is not zero, and u32 filters on every address of
 * the destination. Its first line swaps the whole tree in one step.
 */
export function renderBatch(device: string, rules: HostRule[], root: 1 | 2 = 1): string {
  const lines = [`qdisc replace dev ${device} root handle ${root}: htb`];
  rules.forEach((rule, i) => {
    const minor = hex(i + 1);
    lines.push(`class add dev ${device} parent ${root}: classid ${root}:${minor} htb rate ${rule.rate}`);
    if (needsNetem(rule))
      lines.push(`qdisc add dev ${device} parent ${root}:${minor} handle ${hex(i + 3)}: netem ${netemArgs(rule)}`);
    for (const ip of rule.ips) {
      lines.push(
        `filter add dev ${device} parent ${root}: protocol ip prio 1 u32 match ip dst ${ip}/32 flowid ${root}:${minor}`,
      );
    }
  });
  return `${lines.join("\n")}\n`;
}

/** Whether a device's root qdisc is one of ours (handle 1: or 2:, see renderApplyScript). */
const ourRoot = (device: string, handles = "[12]") =>
  `tc qdisc show dev ${device} | grep -q '^qdisc htb ${handles}: root'`;

/**
 * The script a host runs, in one SSH session, as root: each device's batch, or the reset when there
 * is no rule. It stops at the first batch that fails (`tc -batch` stops at its first failing line):
 * a later device's success must not hide it. `qdisc replace` of an htb root by one with the same
 * handle would modify it in place (which htb refuses), so a re-apply builds the new tree under the
 * other root handle and swaps it in.
 */
export function renderApplyScript(plan: HostPlan): string {
  if (plan.rules.length === 0) return renderResetScript(plan);
  return asRoot(
    "applying tc rules",
    [
      "set -e",
      ...plan.devices.map((device) =>
        [
          `if ${ourRoot(device, "1")}; then tc -batch - <<'TC'`,
          `${renderBatch(device, plan.rules, 2)}TC`,
          "else tc -batch - <<'TC'",
          `${renderBatch(device, plan.rules, 1)}TC`,
          "fi",
        ].join("\n"),
      ),
    ].join("\n"),
  );
}

/**
 * Back to the kernel's default qdisc on every device: only a root of ours is deleted, and a delete
 * that fails fails the reset (the rules would still be there).
 */
export function renderResetScript(plan: Pick<HostPlan, "devices">): string {
  return asRoot(
    "resetting tc rules",
    ["set -e", ...plan.devices.map((device) => `if ${ourRoot(device)}; then tc qdisc del dev ${device} root; fi`)].join(
      "\n",
    ),
  );
}
