import { parseDelay, parseLoss } from "../../config/units";
import { HostPlan, HostRule, needsNetem } from "./plan";

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

/**
 * One `tc -batch` for one device: an htb root (unclassified traffic is not shaped), one class per
 * destination host, a netem leaf where delay or loss is not zero, and u32 filters on every address of
 * the destination. Its first line swaps the whole tree in one step.
 */
export function renderBatch(device: string, rules: HostRule[], root: 1 | 2 = 1): string {
  if (rules.length > MAX_CLASSES) {
    throw new Error(`${rules.length} destination hosts need ${rules.length} tc classes on ${device}; tc allows at most ${MAX_CLASSES} (0x${hex(MAX_CLASSES)})`);
  }
  const lines = [`qdisc replace dev ${device} root handle ${root}: htb`];
  rules.forEach((rule, i) => {
    const minor = hex(i + 1);
    lines.push(`class add dev ${device} parent ${root}: classid ${root}:${minor} htb rate ${rule.rate}`);
    if (needsNetem(rule)) lines.push(`qdisc add dev ${device} parent ${root}:${minor} handle ${hex(i + 3)}: netem ${netemArgs(rule)}`);
    for (const ip of rule.ips) {
      lines.push(`filter add dev ${device} parent ${root}: protocol ip prio 1 u32 match ip dst ${ip}/32 flowid ${root}:${minor}`);
    }
  });
  return `${lines.join("\n")}\n`;
}

/**
 * The script a host runs, in one SSH session: each device's batch, or the reset when there is no
 * rule. `qdisc replace` of an htb root by one with the same handle would modify it in place (which
 * htb refuses), so a re-apply builds the new tree under the other root handle and swaps it in.
 */
export function renderApplyScript(plan: HostPlan): string {
  if (plan.rules.length === 0) return renderResetScript(plan);
  return plan.devices.map((device) => [
    `if tc qdisc show dev ${device} | grep -q '^qdisc htb 1: root'; then tc -batch - <<'TC'`,
    `${renderBatch(device, plan.rules, 2)}TC`,
    "else tc -batch - <<'TC'",
    `${renderBatch(device, plan.rules, 1)}TC`,
    "fi",
    "",
  ].join("\n")).join("");
}

/** Back to the kernel's default qdisc on every device (deleting a root that is absent is not an error). */
export function renderResetScript(plan: Pick<HostPlan, "devices">): string {
  return plan.devices.map((device) => `tc qdisc del dev ${device} root 2>/dev/null || true\n`).join("");
}
