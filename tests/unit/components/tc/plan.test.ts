import * as assert from "node:assert/strict";
import * as path from "node:path";
import { describe, test } from "node:test";
import { addressProblems, baseRttSamples, kernelProblems } from "../../../../components/network-emulation";
import { parseFping, parseIperf } from "../../../../components/tc/measure";
import { accurateRules, baseRtts, type GroupRule, planGroupRules, planHostRules } from "../../../../components/tc/plan";
import {
  classProblems,
  MAX_CLASSES,
  renderApplyScript,
  renderBatch,
  renderResetScript,
} from "../../../../components/tc/render";
import { judgePair, lossInterval, renderMarkdown, renderSvg } from "../../../../components/tc/validate";
import { parseKernelProbe } from "../../../../config/kernel";
import { loadExperiment } from "../../../../config/load";
import type { Host } from "../../../../config/types";
import { parseDelay } from "../../../../config/units";
import { FIXTURES } from "../../../support/helpers";

const seed = (file: string) =>
  loadExperiment({ stack: { reservationFile: path.join(FIXTURES, "seed", file) }, baseDir: FIXTURES });
const rule = (rules: GroupRule[], src: string, dst: string) => rules.find((r) => r.src === src && r.dst === dst);
/** Delay added to a round trip between two groups: each side's egress delay. */
const rttMs = (rules: GroupRule[], a: string, b: string) =>
  (parseDelay(rule(rules, a, b)!.delay) + parseDelay(rule(rules, b, a)!.delay)) / 1000;

describe("tc plan: the seed's first example", () => {
  const config = seed("network-constraints.yaml");
  const rules = planGroupRules(config.groups, config.networkConstraints!);

  test("every ordered pair of the 4 groups has a rule", () => assert.equal(rules.length, 12));
  test("grp1 to the others: 20 ms RTT added, 1gbit, 0% loss, both ways", () => {
    for (const other of ["grp2", "grp3", "grp4"]) {
      assert.equal(rttMs(rules, "grp1", other), 20);
      for (const r of [rule(rules, "grp1", other)!, rule(rules, other, "grp1")!])
        assert.deepEqual([r.rate, r.loss], ["1gbit", "0%"]);
    }
  });
  test("grp2, grp3, grp4 between them: 50 ms RTT, 100mbit, 0.1% loss", () => {
    for (const [a, b] of [
      ["grp2", "grp3"],
      ["grp2", "grp4"],
      ["grp3", "grp4"],
    ]) {
      assert.equal(rttMs(rules, a, b), 50);
      assert.deepEqual(
        [rule(rules, a, b)!.rate, rule(rules, a, b)!.loss, rule(rules, b, a)!.rate],
        ["100mbit", "0.1%", "100mbit"],
      );
    }
  });
});

describe("tc plan: the seed's except example", () => {
  const config = seed("network-constraints-except.yaml");
  const rules = planGroupRules(config.groups, config.networkConstraints!);

  test("no rule touches grp1, the constraint's pairs with grp1 are ignored", () => {
    assert.ok(rules.every((r) => r.src !== "grp1" && r.dst !== "grp1"));
    assert.equal(rules.length, 20, "5 groups left: 20 ordered pairs");
  });
  test("grp2 and grp3 to grp4..grp6 get the constraint both ways, the rest the defaults", () => {
    for (const a of ["grp2", "grp3"]) {
      for (const b of ["grp4", "grp5", "grp6"]) {
        assert.deepEqual(rule(rules, a, b), { src: a, dst: b, delay: "10ms", rate: "1gbit", loss: "0%" });
        assert.deepEqual(rule(rules, b, a), { src: b, dst: a, delay: "10ms", rate: "1gbit", loss: "0%" });
      }
    }
    assert.deepEqual(rule(rules, "grp2", "grp3"), {
      src: "grp2",
      dst: "grp3",
      delay: "25ms",
      rate: "100mbit",
      loss: "0%",
    });
    assert.deepEqual(rule(rules, "grp5", "grp4"), {
      src: "grp5",
      dst: "grp4",
      delay: "25ms",
      rate: "100mbit",
      loss: "0%",
    });
  });
});

describe("tc plan: semantics", () => {
  const nc = (extra: object) => ({
    enable: true,
    default_delay: "5ms",
    default_rate: "10mbit",
    default_loss: "0%",
    constraints: [],
    except: [],
    ...extra,
  });
  const groups = ["a", "b", "c"];

  test("a one-way constraint changes src->dst only, keeping unspecified fields at their defaults", () => {
    const rules = planGroupRules(groups, nc({ constraints: [{ src: "a", dst: "b", delay: "40ms" }] }));
    assert.deepEqual(rule(rules, "a", "b"), { src: "a", dst: "b", delay: "40ms", rate: "10mbit", loss: "0%" });
    assert.deepEqual(rule(rules, "b", "a"), { src: "b", dst: "a", delay: "5ms", rate: "10mbit", loss: "0%" });
  });
  test("'symmetric' is accepted as well as Enos' 'symetric'", () => {
    const rules = planGroupRules(groups, nc({ constraints: [{ src: "a", dst: "b", rate: "1mbit", symmetric: true }] }));
    assert.equal(rule(rules, "b", "a")!.rate, "1mbit");
  });
  test("enable: false means no rule", () => assert.deepEqual(planGroupRules(groups, nc({ enable: false })), []));
  test("a later constraint wins over an earlier one", () => {
    const rules = planGroupRules(
      groups,
      nc({
        constraints: [
          { src: "a", dst: "c", rate: "1mbit" },
          { src: "a", dst: "c", rate: "2mbit" },
        ],
      }),
    );
    assert.equal(rule(rules, "a", "c")!.rate, "2mbit");
  });
  test("a loss given as a number is a percentage", () => {
    assert.equal(rule(planGroupRules(groups, nc({ default_loss: 1 })), "a", "b")!.loss, "1%");
  });
});

const host = (alias: string, group: string, n: number): Host => ({
  alias,
  address: `10.0.0.${n}`,
  roles: ["compute"],
  groups: [group],
  extra: {},
  interfaces: { api: "eth0", external: "eth1" },
  ips: [`10.0.0.${n}`, `10.1.0.${n}`],
  devices: ["eth0", "eth1"],
  kernel: { htb: true, netem: true },
});

describe("tc host rules and the exact commands", () => {
  const hosts = [host("h1", "a", 1), host("h2", "b", 2), host("h3", "b", 3)];
  const rules: GroupRule[] = [
    { src: "a", dst: "b", delay: "10ms", rate: "1gbit", loss: "0%" },
    { src: "b", dst: "a", delay: "0ms", rate: "100mbit", loss: "0%" },
  ];
  const plans = planHostRules(hosts, rules);

  test("one rule per destination host (per host pair), none inside a group", () => {
    assert.deepEqual(
      plans.map((p) => [p.alias, p.rules.map((r) => r.dst)]),
      [
        ["h1", ["h2", "h3"]],
        ["h2", ["h1"]],
        ["h3", ["h1"]],
      ],
    );
  });

  test("the batch of a device: htb root, a class per host, netem only with delay or loss, filters on every address", () => {
    assert.equal(
      renderBatch("eth0", plans[0].rules),
      [
        "qdisc replace dev eth0 root handle 1: htb",
        "class add dev eth0 parent 1: classid 1:1 htb rate 1gbit",
        "qdisc add dev eth0 parent 1:1 handle 3: netem delay 10ms",
        "filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.0.0.2/32 flowid 1:1",
        "filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.1.0.2/32 flowid 1:1",
        "class add dev eth0 parent 1: classid 1:2 htb rate 1gbit",
        "qdisc add dev eth0 parent 1:2 handle 4: netem delay 10ms",
        "filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.0.0.3/32 flowid 1:2",
        "filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.1.0.3/32 flowid 1:2",
        "",
      ].join("\n"),
    );
    assert.doesNotMatch(renderBatch("eth0", plans[1].rules), /netem/, "0ms and 0% need no netem");
  });

  test("loss alone makes a netem leaf with loss only", () => {
    assert.match(
      renderBatch("eth1", [{ dst: "x", ips: ["10.0.0.9"], delay: "0ms", rate: "1mbit", loss: "0.5%" }]),
      /handle 3: netem loss 0\.5%\n/,
    );
  });

  test("class ids and handles are hexadecimal", () => {
    const many = Array.from({ length: 17 }, (_, i) => ({
      dst: `d${i}`,
      ips: [`10.2.0.${i}`],
      delay: "1ms",
      rate: "1mbit",
      loss: "0%",
    }));
    const batch = renderBatch("eth0", many);
    assert.match(batch, /classid 1:a htb/);
    assert.match(batch, /classid 1:11 htb rate 1mbit\nqdisc add dev eth0 parent 1:11 handle 13: netem/);
  });

  test("a plan needing more classes than tc allows is refused with the count, by the check, not by a throw", () => {
    const tooMany = Array.from({ length: MAX_CLASSES + 1 }, () => ({
      dst: "d",
      ips: [],
      delay: "0ms",
      rate: "1mbit",
      loss: "0%",
    }));
    const plan = { alias: "a1", devices: ["eth0"], rules: tooMany };
    assert.match(
      classProblems([plan, { ...plan, alias: "a2", rules: tooMany.slice(1) }]) ?? "",
      /no host was changed:\n {2}- a1: 65534 destination hosts need 65534 tc classes on eth0; tc allows at most 65533 \(0xfffd\)$/,
    );
    // The script is rendered inside an apply, where a throw would be an unhandled rejection: the check stops it.
    assert.doesNotThrow(() => renderApplyScript(plan));
  });

  test("a re-apply swaps in a tree built under the other root handle", () => {
    assert.match(
      renderBatch("eth0", plans[1].rules, 2),
      /^qdisc replace dev eth0 root handle 2: htb\nclass add dev eth0 parent 2: classid 2:1 htb rate 100mbit\n/,
    );
    assert.match(renderBatch("eth0", plans[1].rules, 2), /flowid 2:1\n/);
  });

  test("a host's script applies each device's batch in one go; with no rule it resets", () => {
    const script = renderApplyScript(plans[1]);
    assert.equal(script.match(/tc -batch - <<'TC'/g)?.length, 4, "two devices, a batch for each root handle");
    assert.match(
      script,
      /\nset -e\nif tc qdisc show dev eth0 \| grep -q '\^qdisc htb 1: root'; then tc -batch - <<'TC'\nqdisc replace dev eth0 root handle 2: htb\n/,
    );
    assert.match(script, /qdisc replace dev eth1 root handle 1: htb/);
    assert.match(script, /sudo -n bash -s/, "a login other than root goes through sudo");
    assert.equal(
      renderApplyScript({ alias: "x", devices: ["eth0"], rules: [] }),
      renderResetScript({ devices: ["eth0"] }),
    );
    const reset = renderResetScript(plans[0]);
    assert.match(
      reset,
      /\nset -e\nif tc qdisc show dev eth0 \| grep -q '\^qdisc htb \[12\]: root'; then tc qdisc del dev eth0 root; fi\nif tc qdisc show dev eth1 /,
    );
    assert.doesNotMatch(reset, /\|\| true/, "a reset that fails says so");
  });

  test("kernel facts: netem is needed only where a rule has delay or loss; every lacking host is named", () => {
    const noNetem = hosts.map((h) => ({ ...h, kernel: parseKernelProbe("qdisc htb yes\nqdisc netem no\n") }));
    assert.equal(kernelProblems(noNetem, planHostRules(noNetem, [rules[1]])), undefined, "rates only: htb is enough");
    assert.equal(
      kernelProblems(noNetem, plans),
      [
        "network emulation needs kernel support that these hosts do not have; no host was changed:",
        "  - h1 lacks sch_netem (netem: delay and loss)",
      ].join("\n"),
    );
    const bare = hosts.map((h) => ({ ...h, kernel: parseKernelProbe("qdisc htb no\nqdisc netem no\n") }));
    assert.match(
      kernelProblems(bare, plans)!,
      /h1 lacks sch_htb[\s\S]*h1 lacks sch_netem[\s\S]*h2 lacks sch_htb[\s\S]*h3 lacks sch_htb/,
    );
  });

  test("a destination without any known address is refused by name: its rules would match nothing", () => {
    assert.equal(addressProblems(plans), undefined);
    const unaddressed = hosts.map((h) => (h.alias === "h2" ? { ...h, ips: [] } : h));
    assert.equal(
      addressProblems(planHostRules(unaddressed, rules)),
      [
        "network emulation cannot shape traffic to hosts whose addresses the testbed does not know; no host was changed:",
        "  - h2 has no known IPv4 address",
      ].join("\n"),
    );
  });
});

describe("tc validation: asked vs measured", () => {
  const rules: GroupRule[] = [
    { src: "a", dst: "b", delay: "10ms", rate: "10mbit", loss: "1%" },
    { src: "b", dst: "a", delay: "5ms", rate: "10mbit", loss: "0%" },
  ];
  const measured = (rttsMs: number[], probes: number, goodputBits?: number) => ({
    src: "a",
    dst: "b",
    from: "h1",
    to: "h2",
    rttsMs,
    probes,
    goodputBits,
  });

  test("fping -C output: lost probes are dashes", () => {
    assert.deepEqual(parseFping("10.0.0.2 : 0.05 0.06 - 0.04\n"), [0.05, 0.06, 0.04]);
  });
  test("iperf3's JSON report gives the goodput; anything else is an error showing what came instead", () => {
    assert.equal(parseIperf('{"end": {"sum_received": {"bits_per_second": 1.9e6}}}'), 1.9e6);
    assert.throws(() => parseIperf('{"end": {"sum_re'), /no report of received bits per second.*: \{"end": \{"sum_re$/);
    assert.throws(() => parseIperf('{"error": "unable to connect"}'), /but: \{"error": "unable to connect"\}/);
    const long = `{"start": "${"x".repeat(5000)}`;
    assert.throws(() => parseIperf(long), /\[\.\.\. 4511 characters \.\.\.\] x{200}$/);
  });
  test("the RTT asked is both directions' delays; tolerance ±(1 ms + 5%)", () => {
    const ok = judgePair(measured([15.9, 16.2, 16.0], 3), rules);
    assert.deepEqual([ok.rtt.ok, ok.rtt.asked, ok.rtt.tolerance], [true, "15.00 ms", "±(1 ms + 5%) = ±1.75 ms"]);
    assert.equal(judgePair(measured([17, 17, 17], 3), rules).rtt.ok, false);
  });
  test("the rate is goodput corrected by 1514/1448, within 5%", () => {
    assert.equal(judgePair(measured([15], 1, 9.3e6), rules).rate?.ok, true, "9.3 Mbit/s goodput is 9.72 on the wire");
    assert.equal(judgePair(measured([15], 1, 8.9e6), rules).rate?.ok, false, "8.9 goodput is 9.31 on the wire");
  });
  test("loss: the asked round-trip loss must lie in the 99% interval of what was lost", () => {
    const rtts = (n: number) => Array.from({ length: n }, () => 15);
    assert.equal(judgePair(measured(rtts(396), 400), rules).loss.ok, true, "4 lost of 400 for 1% asked");
    assert.equal(judgePair(measured(rtts(360), 400), rules).loss.ok, false, "40 lost of 400 is not 1%");
    const [low, high] = lossInterval(0, 200);
    assert.equal(low, 0);
    assert.ok(Math.abs(high - 0.0261) < 0.0005, `nothing lost of 200: upper bound ${high}`);
    const [low3, high3] = lossInterval(3, 200);
    // Checked against an exact computation in Python (sum of binomial terms, bisection).
    assert.ok(Math.abs(low3 - 0.0016964) < 1e-6 && Math.abs(high3 - 0.0538034) < 1e-6, `3 of 200: [${low3}, ${high3}]`);
    assert.equal(
      judgePair(measured(rtts(197), 200), [
        { ...rules[0], loss: "0.1%" },
        { ...rules[1], loss: "0.1%" },
      ]).loss.ok,
      true,
      "3 lost of 200 is consistent with 0.2% round trip (an approximate interval would say no)",
    );
  });
  test("the report states tolerances and every pair's verdict; the plot marks failures", () => {
    const verdicts = [
      judgePair(measured([16], 1, 9.5e6), rules),
      judgePair({ ...measured([30], 1, 5e6), src: "b", dst: "a" }, rules),
    ];
    const md = renderMarkdown("dev", verdicts);
    assert.match(md, /1 of 2 group pairs pass/);
    assert.match(md, /1514\/1448/);
    assert.match(renderSvg(["a", "b"], verdicts), /FAIL/);
  });
});

describe("tc accurate mode", () => {
  const rules: GroupRule[] = [
    { src: "a", dst: "b", delay: "10ms", rate: "1gbit", loss: "0%" },
    { src: "b", dst: "a", delay: "0ms", rate: "1gbit", loss: "0%" },
    { src: "a", dst: "c", delay: "100us", rate: "1gbit", loss: "0%" },
  ];
  test("each direction loses half the pair's base RTT; a zero delay stays zero", () => {
    const { rules: adjusted, problems } = accurateRules(rules.slice(0, 2), { "a>b": 0.4, "b>a": 0.4 });
    assert.deepEqual(
      adjusted.map((r) => r.delay),
      ["9800us", "0ms"],
    );
    assert.deepEqual(problems, []);
  });
  test("a pair whose base-RTT probe got no reply is named with what the probe printed, not turned into a NaN delay", () => {
    const hosts = [host("h1", "a", 1), host("h2", "b", 2)];
    const output =
      "@@FPING 0\n10.0.0.2 : 0.41 0.39 -\n@@FPING 1\nssh: connect to host 10.0.0.1 port 22: No route to host";
    const samples = baseRttSamples(hosts, output);
    assert.deepEqual(
      samples.map((s) => [s.src, s.dst, s.rttsMs]),
      [
        ["a", "b", [0.41, 0.39]],
        ["b", "a", []],
      ],
    );
    const { rttMs, problems } = baseRtts(samples);
    assert.deepEqual(rttMs, { "a>b": 0.4 });
    assert.deepEqual(problems, [
      "b -> a: no base RTT, none of 100 probes from h2 to h1 got a reply (the probe printed: ssh: connect to host 10.0.0.1 port 22: No route to host)",
    ]);
    assert.ok(accurateRules(rules.slice(0, 2), rttMs).rules.every((r) => !r.delay.includes("NaN")));
  });
  test("a pair whose base RTT already exceeds the asked delay is named", () => {
    const { problems } = accurateRules(rules, { "a>b": 0.4, "a>c": 0.5 });
    assert.deepEqual(problems, [
      "a -> c: 100us asked, but the network alone already takes 0.250 ms each way (base RTT 0.500 ms)",
    ]);
  });
  test("the renderer takes the adjusted delay as it is", () => {
    const [adjusted] = accurateRules(rules.slice(0, 1), { "a>b": 0.4 }).rules;
    assert.match(renderBatch("eth0", [{ ...adjusted, dst: "b1", ips: ["10.0.0.2"] }]), /netem delay 9800us\n/);
  });
});
