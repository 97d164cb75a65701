import * as path from "node:path";
import { ConfigError } from "../config/errors";
import { ExperimentConfig, loadExperiment } from "../config/load";
import * as fs from "node:fs";
import { measureAndReport } from "../components/tc/measure";
import { runBackup } from "../components/backup/collect";
import { planBackup, summarize } from "../components/backup/plan";
import { influxdbSource } from "../components/monitoring/render";
import type { Host, TestbedNetwork } from "../config/types";
import { inventoryProblems, inventoryTemplate, renderKollaFiles, staticHostsOf } from "../kolla/render";
import { maskSecrets, secretKinds } from "../kolla/passwords";
import { kollaCopyFor } from "../components/kolla";
import { GroupRule, HostPlan, planGroupRules, planHostRules } from "../components/tc/plan";
import { experimentProgram } from "../index";
import { readStackFile } from "./stack-file";
import { readWorkload } from "../workloads/run-file";
import { PROJECT_DIR } from "../config/paths";
import { STATE_DIR, openStack, recoverInterruptedUpdate } from "./workspace";
import { renderCheck } from "./check";
import { describeStack } from "./info";
import { newStackFile } from "./new";
import { phaseTargets, targetsOf } from "./verbs";

const USAGE = `usage: enos <command> [options]

Enos' verbs; each phase verb updates its phase and what that phase needs, and leaves the rest as is:
  new --provider P --stack NAME               write Pulumi.NAME.yaml from the provider's example
  check [-f reservation.yaml | --stack NAME] [--json]
                                              validate a configuration and print it normalized:
                                              your keys, defaults filled in (# default), Kolla's VIPs
  deploy [--stack NAME]                       everything: testbed, monitoring, OpenStack, init,
                                              benchmarks, network emulation
  up [--stack NAME]                           acquire the testbed only
  os [--stack NAME]                           deploy OpenStack with kolla-ansible (check mode: check it)
  os --render (-f reservation.yaml | --stack NAME) --out DIR
                                              write the inventory, globals.yml and passwords.yml
                                              (values masked) that a deploy would hand kolla-ansible;
                                              a static testbed's hosts come from its config, other
                                              testbeds' from the stack once it is up
  init [--stack NAME]                         initialise OpenStack (images, flavors, networks)
  bench [--workload DIR] [--stack NAME]       run the workload's benchmarks (DIR becomes enos:workload)
  tc [--stack NAME]                           apply the network emulation rules
  tc --reset [--stack NAME]                   remove them (the next tc or deploy applies them again)
  tc --test [--stack NAME]                    measure RTT, loss (fping) and rates (iperf3) between
                                              the groups; report in results/<stack>/tc
  tc --plan [-f reservation.yaml | --stack NAME]
                                              print the network emulation plan as JSON, touching no
                                              host: every ordered group pair's rule, and with a stack
                                              that is up, every host's rules
  backup [--plan] [--stack NAME]              collect every host's logs, /etc/kolla, docker and tc
                                              state (and InfluxDB, bench results) into
                                              results/<stack>/backup/<timestamp>/ with an index;
                                              exits 1 when a host could not be reached. --plan
                                              prints each host's archives as JSON, touching no host
  info [--json] [--stack NAME]                hosts, roles, groups, URLs, files and next steps
  preview [--stack NAME]                      show what deploy would change
  destroy [--stack NAME]                      release everything the stack holds (alias: down)
  bench --plan --workload DIR                 print the runs DIR/run.yml expands to, as JSON in
                                              execution order ({type, name, file, args, plugin}); runs nothing

--stack defaults to dev (hosts as network namespaces on this machine).
Exit codes: 0 done, 1 failed (config, engine or measurement), 2 usage.`;

interface Options {
  command: string;
  stack: string;
  /** Whether --stack was given (`new` has no default stack). */
  stackGiven: boolean;
  file?: string;
  plan?: boolean;
  test?: boolean;
  render?: boolean;
  out?: string;
  reset?: boolean;
  json?: boolean;
  provider?: string;
  workload?: string;
}

function parseArgs(argv: string[]): Options {
  const [command = "help", ...rest] = argv;
  const options: Options = { command, stack: "dev", stackGiven: false };
  for (let i = 0; i < rest.length; i++) {
    const value = () => rest[++i] ?? fail(`${rest[i - 1]} needs a value`);
    switch (rest[i]) {
      case "--stack": case "-s": options.stack = value(); options.stackGiven = true; break;
      case "-f": case "--file": options.file = value(); break;
      case "--plan": options.plan = true; break;
      case "--test": options.test = true; break;
      case "--render": options.render = true; break;
      case "--out": options.out = value(); break;
      case "--reset": options.reset = true; break;
      case "--json": options.json = true; break;
      case "--provider": options.provider = value(); break;
      case "--workload": options.workload = value(); break;
      default: fail(`unknown option ${rest[i]}`);
    }
  }
  return options;
}

function fail(message: string): never {
  console.error(`enos: ${message}\n\n${USAGE}`);
  process.exit(2);
}

/** Validates without the engine: the reservation file, or the stack file with its reservationFile. */
function validate(options: Options): ExperimentConfig {
  const stack = options.file ? { reservationFile: path.resolve(options.file) } : readStackFile(PROJECT_DIR, options.stack);
  const config = loadExperiment({ stack, baseDir: options.file ? process.cwd() : PROJECT_DIR });
  config.warnings.forEach((w) => console.error(`warning: ${w}`));
  return config;
}

async function stackFor(options: Options) {
  const program = experimentProgram({ projectDir: PROJECT_DIR, stateDir: STATE_DIR });
  return openStack(options.stack, "enos", program);
}

const write = (text: string) => process.stdout.write(text);

/** The stack, with an interrupted update settled first (see recoverInterruptedUpdate). */
async function settledStack(options: Options, forDestroy: boolean) {
  const stack = await stackFor(options);
  const settled = await recoverInterruptedUpdate(stack, STATE_DIR, forDestroy);
  if (settled.length) console.log(`An earlier update was interrupted; settled: ${settled.join(", ")}`);
  return stack;
}

/** The outputs of a stack that is up; a usage error otherwise. */
async function upOutputs(options: Options) {
  const outputs = await (await stackFor(options)).outputs();
  if (!outputs.hosts) fail(`stack ${options.stack} is not up: run enos up --stack ${options.stack} first`);
  return outputs;
}

/**
 * An update of the whole stack (deploy), or of one verb's phases; settles an interrupted update
 * first. The engine streams its progress; the result says whether it succeeded.
 */
async function update(options: Options, verb?: Parameters<typeof targetsOf>[0]): Promise<number> {
  validate(options);
  const stack = await settledStack(options, false);
  const target = verb ? targetsOf(verb, options.stack) : undefined;
  const result = await stack.up({ onOutput: write, parallel: 64, target });
  if (result.summary.result !== "succeeded") return 1;
  console.log(`\nnext: npx enos info --stack ${options.stack}`);
  return 0;
}

/** Destroys the stack, or only `target`; settles an interrupted update first. */
async function destroy(options: Options, target?: string[]): Promise<number> {
  const stack = await settledStack(options, true);
  const result = await stack.destroy({ onOutput: write, parallel: 64, target });
  return result.summary.result === "succeeded" ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  switch (options.command) {
    case "check": {
      write(renderCheck(validate(options), options.json === true));
      return 0;
    }
    case "new": {
      if (!options.provider || !options.stackGiven) return fail("new needs --provider P and --stack NAME");
      const file = newStackFile(PROJECT_DIR, options.stack, options.provider);
      console.log(`wrote ${file}; edit it, then: npx enos check --stack ${options.stack} && npx enos deploy --stack ${options.stack}`);
      return 0;
    }
    case "deploy":
      return update(options);
    case "up": case "init":
      return update(options, options.command);
    case "preview": {
      validate(options);
      await (await stackFor(options)).preview({ onOutput: write, parallel: 64 });
      return 0;
    }
    case "destroy": case "down":
      return destroy(options);
    case "info": {
      const outputs = await (await stackFor(options)).outputs();
      if (Object.keys(outputs).length === 0) {
        console.log(`stack ${options.stack} holds nothing: run enos deploy --stack ${options.stack}`);
        return 0;
      }
      if (options.json) {
        console.log(JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.secret ? "[secret]" : v.value])), null, 2));
      } else {
        write(describeStack(options.stack, outputs));
      }
      return 0;
    }
    case "os": {
      if (!options.render) return update(options, "os");
      if (!options.out) return fail("os --render needs --out DIR");
      const config = validate(options);
      let testbed: { hosts: Host[]; network: TestbedNetwork };
      if (options.file || config.provider.type === "static") {
        testbed = staticHostsOf(config);
      } else {
        const outputs = await upOutputs(options);
        testbed = { hosts: outputs.hosts.value, network: outputs.network.value };
      }
      const problem = inventoryProblems(inventoryTemplate(config), testbed.hosts);
      if (problem) throw new Error(problem);
      const copy = kollaCopyFor(config);
      const template = path.join(copy.venv, "share", "kolla-ansible", "etc_examples", "kolla", "passwords.yml");
      if (!fs.existsSync(template)) throw new Error(`${copy.requirement} is not installed yet (${copy.venv}); enos os (or deploy) installs it`);
      const masked = maskSecrets(secretKinds(fs.readFileSync(template, "utf8")));
      const files = renderKollaFiles(config, testbed.hosts, testbed.network, masked);
      fs.mkdirSync(options.out, { recursive: true });
      for (const [name, text] of [["multinode", files.multinode], ["globals.yml", files.globals], ["passwords.yml", files.passwords]]) {
        fs.writeFileSync(path.join(options.out, name), text);
      }
      console.log(`wrote ${["multinode", "globals.yml", "passwords.yml"].map((f) => path.join(options.out!, f)).join(", ")}`);
      return 0;
    }
    case "tc": {
      if (options.reset) return destroy(options, phaseTargets("tc", options.stack));
      if (!options.plan && !options.test) return update(options, "tc");
      const config = validate(options);
      if (!config.networkConstraints) return fail("this configuration has no network_constraints");
      const groupRules = planGroupRules(config.groups, config.networkConstraints);
      if (options.test) {
        const outputs = await upOutputs(options);
        const outDir = path.join(PROJECT_DIR, "results", options.stack, "tc");
        const verdicts = await measureAndReport({ stack: options.stack, hosts: outputs.hosts.value, groupRules, sshConfig: outputs.sshConfig.value, outDir });
        const failed = verdicts.filter((v) => !v.rtt.ok || !v.loss.ok || (v.rate && !v.rate.ok));
        console.log(`${verdicts.length - failed.length} of ${verdicts.length} group pairs pass; report: ${outDir}/report.md (and .json, .png)`);
        return failed.length ? 1 : 0;
      }
      const plan: { groupRules: GroupRule[]; hosts?: HostPlan[] } = { groupRules };
      if (!options.file) {
        const outputs = await (await stackFor(options)).outputs();
        if (outputs.hosts) plan.hosts = planHostRules(outputs.hosts.value, groupRules);
      }
      console.log(JSON.stringify(plan, null, 2));
      return 0;
    }
    case "bench": {
      if (options.plan) {
        if (!options.workload) return fail("bench --plan needs --workload DIR");
        console.log(JSON.stringify(readWorkload(path.resolve(options.workload)).runs, null, 2));
        return 0;
      }
      if (options.workload) await (await stackFor(options)).setConfig("enos:workload", { value: path.resolve(options.workload) });
      return update(options, "bench");
    }
    case "backup": {
      const config = validate(options);
      const outputs = await upOutputs(options);
      const hosts: Host[] = outputs.hosts.value;
      const request = {
        stack: options.stack, hosts, sshConfig: outputs.sshConfig.value, resultsDir: path.join(PROJECT_DIR, "results", options.stack),
        influxdb: config.enableMonitoring ? influxdbSource(hosts) : undefined,
      };
      if (options.plan) {
        const plan = planBackup(request);
        console.log(JSON.stringify({
          hosts: plan.hosts.map((h) => ({ alias: h.alias, archives: h.archives.map(({ kind, file }) => ({ kind, file })) })),
          operator: plan.local,
        }, null, 2));
        return 0;
      }
      const index = await runBackup(request);
      console.log(summarize(index));
      return index.failedHosts.length ? 1 : 0;
    }
    case "help": case "--help": case "-h":
      console.log(USAGE);
      return 0;
    default:
      return fail(`unknown command ${options.command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    // Config errors list every problem with its key; engine errors already streamed their details.
    console.error(error instanceof ConfigError ? error.message : `enos: ${error.message ?? error}`);
    process.exit(1);
  },
);


