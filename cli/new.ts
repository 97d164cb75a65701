import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { PROJECT_DIR } from "../config/paths";
import { PROVIDER_TYPES } from "../config/schema";
import { exitWith, type GlobalOptions, UsageError } from "./context";

/** The project's example stack of each provider: `enos new` starts from it. */
const EXAMPLE_STACK: Record<string, string> = { local: "dev" };

/** Writes Pulumi.<stack>.yaml from the provider's example; returns its path. */
export function newStackFile(projectDir: string, stack: string, provider: string): string {
  if (!(PROVIDER_TYPES as readonly string[]).includes(provider)) {
    throw new Error(`--provider ${provider} is not a testbed; testbeds are ${PROVIDER_TYPES.join(", ")}`);
  }
  const example = path.join(projectDir, `Pulumi.${EXAMPLE_STACK[provider] ?? provider}.yaml`);
  if (!fs.existsSync(example)) throw new Error(`no example stack for ${provider} yet (${example})`);
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
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
    .description("write Pulumi.<stack>.yaml from the provider's example (needs --stack NAME)")
    .requiredOption("--provider <type>", `the testbed: ${PROVIDER_TYPES.join(", ")}`)
    .action(
      exitWith(async (options: { provider: string }, command: Command) => {
        const { stack } = command.optsWithGlobals<GlobalOptions>();
        if (!stack) throw new UsageError("new needs --stack NAME: the name of the new stack");
        const file = newStackFile(PROJECT_DIR, stack, options.provider);
        console.log(
          `wrote ${file}; edit it, then: npx enos check --stack ${stack} && pulumi up --stack ${stack} (or npx enos deploy --stack ${stack})`,
        );
        return 0;
      }),
    );
}
