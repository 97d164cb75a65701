/** What a host's kernel can do for network emulation, probed once when the testbed hands the host out. */
export interface KernelFacts {
  htb: boolean;
  netem: boolean;
}

/**
 * A shell snippet trying each qdisc on a throwaway veth pair (the one link type every host with
 * containers has); qdiscs built as modules are loaded by the attempt itself.
 */
export const KERNEL_PROBE = [
  "probe=etcp$$",
  'if ip link add "$probe" type veth peer name "etcq$$" 2>/dev/null; then',
  '  tc qdisc add dev "$probe" root handle 1: htb 2>/dev/null && echo "qdisc htb yes" || echo "qdisc htb no"',
  '  tc qdisc del dev "$probe" root 2>/dev/null',
  '  tc qdisc add dev "$probe" root netem delay 1ms 2>/dev/null && echo "qdisc netem yes" || echo "qdisc netem no"',
  '  ip link del "$probe"',
  "else echo 'qdisc htb no'; echo 'qdisc netem no'; fi",
  "",
].join("\n");

export function parseKernelProbe(output: string): KernelFacts {
  return { htb: /^qdisc htb yes$/m.test(output), netem: /^qdisc netem yes$/m.test(output) };
}
