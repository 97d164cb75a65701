import type { Host } from "../../config/types";
import { ENOS_VIP_KEYS, VIP_NAMES, type Vips } from "../../config/vips";
import { parseInterfaces } from "../../providers/shared/probe";
import type { HostPlan } from "./plan";

/**
 * Lists every host's IPv4 addresses over SSH, all hosts at once, each output after an `@@ADDR i`
 * line; fails (with every output shown) when a host cannot be read.
 */
export function addressesScript(hosts: Pick<Host, "alias">[], sshConfig: string): string {
  return [
    "dir=$(mktemp -d); trap 'rm -rf \"$dir\"' EXIT; pids=()",
    ...hosts.map(
      (host, i) => `ssh -F '${sshConfig}' '${host.alias}' 'ip -o -4 addr show' > "$dir/${i}" 2>&1 & pids+=($!)`,
    ),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash array expansion, not a template
    'failed=0; for pid in "${pids[@]}"; do wait "$pid" || failed=1; done',
    ...hosts.map((_, i) => `echo "@@ADDR ${i}"; cat "$dir/${i}"`),
    "exit $failed",
    "",
  ].join("\n");
}

/**
 * The hosts with the addresses they hold now added to those probed at acquisition: a VIP that
 * keepalived (or the registry, or monitoring) put on one of a host's devices is that host's, and
 * traffic to it is shaped like traffic to the host, as Enos read each host's addresses at tc time.
 */
export function withCurrentAddresses(hosts: Host[], output: string): Host[] {
  return hosts.map((host, i) => {
    const said = output.split(`@@ADDR ${i}\n`)[1]?.split("\n@@ADDR ")[0] ?? "";
    const interfaces = parseInterfaces("", said);
    const now = host.devices.flatMap((device) => interfaces[device] ?? []).map((address) => address.split("/")[0]);
    return { ...host, ips: [...new Set([...host.ips, ...now])] };
  });
}

/** Every destination host's shaped addresses, each VIP among them named by its Enos key (e.g. `10.0.0.5 (vip)`). */
export function shapedAddresses(plans: HostPlan[], vips?: Vips): Record<string, string[]> {
  const named = (ip: string) => {
    const keys = VIP_NAMES.filter((vip) => vips?.[vip].address === ip).map((vip) => ENOS_VIP_KEYS[vip]);
    return keys.length ? `${ip} (${keys.join(", ")})` : ip;
  };
  const shaped: Record<string, string[]> = {};
  for (const rule of plans.flatMap((plan) => plan.rules)) shaped[rule.dst] ??= rule.ips.map(named);
  return shaped;
}

/** The report's section on what was shaped: one line per destination host. */
export function renderShaped(shaped: Record<string, string[]>): string {
  const lines = Object.entries(shaped).map(([alias, ips]) => `- ${alias}: ${ips.join(", ")}`);
  return [
    "## Shaped addresses",
    "",
    "Traffic to these addresses of each destination host (read on the hosts when the rules were made) is shaped:",
    "",
    ...(lines.length ? lines : ["- none: no rule"]),
    "",
  ].join("\n");
}
