import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { PROJECT_DIR } from "../config/paths";
import { PROVIDER_TYPES } from "../config/schema";
import { exitWith, type GlobalOptions, UsageError } from "./context";
import { experimentDir, initExperimentDir } from "./workspace";

/** Enos' own sample (enos/templates/reservation.yaml.sample) opens with Grid'5000. */
export const DEFAULT_PROVIDER = "g5k";

/** The project's example stack of each provider: `enos new --stack` starts from it. */
const EXAMPLE_STACK: Record<string, string> = { local: "dev" };

function checkProvider(provider: string): void {
  if (!(PROVIDER_TYPES as readonly string[]).includes(provider)) {
    throw new UsageError(`--provider ${provider} is not a testbed; testbeds are ${PROVIDER_TYPES.join(", ")}`);
  }
}

/**
 * A commented reservation.yaml for the provider, as `enos new` printed Enos' sample: the testbed's
 * provider and resources, then the keys every experiment has (registry, monitoring, kolla).
 */
export function sampleReservation(provider: string): string {
  checkProvider(provider);
  const samples = path.join(PROJECT_DIR, "cli", "samples");
  const read = (name: string) => fs.readFileSync(path.join(samples, `${name}.yaml`), "utf8");
  return `---\n${read(provider)}${read("common")}`;
}

/** Writes Pulumi.<stack>.yaml of `dir` from the provider's example; returns its path. */
export function newStackFile(dir: string, stack: string, provider: string): string {
  checkProvider(provider);
  const example = path.join(PROJECT_DIR, `Pulumi.${EXAMPLE_STACK[provider] ?? provider}.yaml`);
  if (!fs.existsSync(example)) throw new Error(`no example stack for ${provider} yet (${example})`);
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  if (fs.existsSync(file)) throw new Error(`${file} exists already: pick another --stack name, or edit that file`);
  // The salt of the example's secrets belongs to that stack: the new one gets its own on first use.
  const text = fs
    .readFileSync(example, "utf8")
    .split("\n")
    .filter((l) => !l.startsWith("encryptionsalt:"))
    .join("\n");
  fs.writeFileSync(file, text);
  return file;
}

export function register(program: Command) {
  program
    .command("new")
    .description(
      "print a commented reservation.yaml (enos new > reservation.yaml); --stack NAME writes Pulumi.NAME.yaml instead",
    )
    .option("--provider <type>", `the testbed: ${PROVIDER_TYPES.join(", ")}`, DEFAULT_PROVIDER)
    .option(
      "--dir <dir>",
      "make DIR an experiment directory (Pulumi.yaml running this installation; its own state and results) " +
        "and write the sample there as reservation.yaml",
    )
    .action(
      exitWith(async (options: { provider: string; dir?: string }, command: Command) => {
        const { stack } = command.optsWithGlobals<GlobalOptions>();
        if (options.dir) console.error(`enos: ${initExperimentDir(path.resolve(options.dir))}`);
        const dir = options.dir ? path.resolve(options.dir) : experimentDir();
        if (stack) {
          const file = newStackFile(dir, stack, options.provider);
          console.log(`wrote ${file}; edit it, then: enos check --stack ${stack} && enos deploy --stack ${stack}`);
        } else if (options.dir) {
          const file = path.join(dir, "reservation.yaml");
          if (fs.existsSync(file)) throw new Error(`${file} exists already: edit it, or remove it first`);
          fs.writeFileSync(file, sampleReservation(options.provider));
          console.log(`wrote ${file}; edit it, then in ${dir}: enos deploy`);
        } else {
          process.stdout.write(sampleReservation(options.provider));
        }
        return 0;
      }),
    );
}
