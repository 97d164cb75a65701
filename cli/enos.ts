import * as path from "node:path";
import { ConfigError } from "../config/errors";
import { ExperimentConfig, loadExperiment } from "../config/load";
import * as fs from "node:fs";
import { measureAndReport } from "../components/tc/measure";
import type { Host, TestbedNetwork } from "../config/types";
import { passwordKeys, renderKollaFiles, staticHostsOf } from "../kolla/render";
import { GroupRule, HostPlan, planGroupRules, planHostRules } from "../components/tc/plan";
import { experimentProgram } from "../index";
import { readStackFile } from "./stack-file";
import { readWorkload } from "../workloads/run-file";
import { PROJECT_DIR } from "../config/paths";
import { STATE_DIR, openStack, recoverInterruptedUpdate } from "./workspace";

const USAGE = `usage: enos <command> [options]

  check [-f reservation.yaml | --stack NAME]   validate a configuration and print it normalized
  up [--stack NAME]                            acquire the testbed and run every enabled phase
  preview [--stack NAME]                       show what up would change
  destroy [--stack NAME]                       release everything the stack holds (alias: down)
  info [--stack NAME]                          hosts, roles, groups, files and next steps
  os --render (-f reservation.yaml | --stack NAME) --out DIR
                                               write the inventory, globals.yml and passwords.yml
                                               (values masked) that a deploy would hand kolla-ansible;
                                               -f needs a static testbed (hosts known from the file)
  tc --test [--stack NAME]                     measure RTT, loss (fping) and rates (iperf3) between
                                               the groups of a stack that is up; report in
                                               results/<stack>/tc (JSON, markdown, PNG)
  tc --plan [-f reservation.yaml | --stack NAME]
                                               print the network emulation plan as JSON, touching no
                                               host: every ordered group pair's rule, and with a stack
                                               that is up, every host's rules
  bench --plan --workload DIR                  print the runs DIR/run.yml expands to, as JSON in
                                               execution order ({type, name, file, args, plugin}); runs nothing

--stack defaults to dev (hosts as network namespaces on this machine).`;

interface Options {
  command: string;
  stack: string;
  file?: string;
  plan?: boolean;
  test?: boolean;
  render?: boolean;
  out?: string;
  workload?: string;
}

function parseArgs(argv: string[]): Options {
  const [command = "help", ...rest] = argv;
  const options: Options = { command, stack: "dev" };
  for (let i = 0; i < rest.length; i++) {
    const value = () => rest[++i] ?? fail(`${rest[i - 1]} needs a value`);
    switch (rest[i]) {
      case "--stack": case "-s": options.stack = value(); break;
      case "-f": case "--file": options.file = value(); break;
      case "--plan": options.plan = true; break;
      case "--test": options.test = true; break;
      case "--render": options.render = true; break;
      case "--out": options.out = value(); break;
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

async function main(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  switch (options.command) {
    case "check": {
      console.log(JSON.stringify(validate(options), null, 2));
      return 0;
    }
    case "up": {
      validate(options);
      const stack = await stackFor(options);
      const settled = await recoverInterruptedUpdate(stack, STATE_DIR);
      if (settled.length) console.log(`An earlier update was interrupted; settled: ${settled.join(", ")}`);
      const result = await stack.up({ onOutput: write, parallel: 64 });
      return result.summary.result === "succeeded" ? 0 : 1;
    }
    case "preview": {
      validate(options);
      await (await stackFor(options)).preview({ onOutput: write, parallel: 64 });
      return 0;
    }
    case "destroy": case "down": {
      const stack = await stackFor(options);
      const settled = await recoverInterruptedUpdate(stack, STATE_DIR, true);
      if (settled.length) console.log(`An earlier update was interrupted; settled: ${settled.join(", ")}`);
      const result = await stack.destroy({ onOutput: write, parallel: 64 });
      return result.summary.result === "succeeded" ? 0 : 1;
    }
    case "info": {
      const outputs = await (await stackFor(options)).outputs();
      if (Object.keys(outputs).length === 0) {
        console.log(`stack ${options.stack} holds nothing: run enos up --stack ${options.stack}`);
        return 0;
      }
      console.log(JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.secret ? "[secret]" : v.value])), null, 2));
      return 0;
    }
    case "os": {
      if (!options.render || !options.out) return fail("os needs --render and --out DIR (deploying comes with the Kolla phase of up)");
      const config = validate(options);
      let testbed: { hosts: Host[]; network: TestbedNetwork };
      if (options.file) {
        testbed = staticHostsOf(config);
      } else {
        const outputs = await (await stackFor(options)).outputs();
        if (!outputs.hosts) return fail(`stack ${options.stack} is not up: run enos up --stack ${options.stack} first`);
        testbed = { hosts: outputs.hosts.value, network: outputs.network.value };
      }
      const template = fs.readFileSync(path.join(PROJECT_DIR, ".venv", "share", "kolla-ansible", "etc_examples", "kolla", "passwords.yml"), "utf8");
      const masked = Object.fromEntries(passwordKeys(template).map((k) => [k, "********"]));
      const files = renderKollaFiles(config, testbed.hosts, testbed.network, masked);
      fs.mkdirSync(options.out, { recursive: true });
      for (const [name, text] of [["multinode", files.multinode], ["globals.yml", files.globals], ["passwords.yml", files.passwords]]) {
        fs.writeFileSync(path.join(options.out, name), text);
      }
      console.log(`wrote ${["multinode", "globals.yml", "passwords.yml"].map((f) => path.join(options.out!, f)).join(", ")}`);
      return 0;
    }
    case "tc": {
      if (!options.plan && !options.test) return fail("tc needs --plan or --test (rules are applied by up)");
      const config = validate(options);
      if (!config.networkConstraints) return fail("this configuration has no network_constraints");
      const groupRules = planGroupRules(config.groups, config.networkConstraints);
      if (options.test) {
        const outputs = await (await stackFor(options)).outputs();
        if (!outputs.hosts) return fail(`stack ${options.stack} is not up: run enos up --stack ${options.stack} first`);
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
      if (!options.plan || !options.workload) return fail("bench needs --plan and --workload DIR (benchmarks are run by up, with enos:workload set)");
      console.log(JSON.stringify(readWorkload(path.resolve(options.workload)).runs, null, 2));
      return 0;
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


