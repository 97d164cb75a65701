import * as fs from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { ConfigError } from "../config/errors";
import * as backup from "./backup";
import * as bench from "./bench";
import * as check from "./check";
import { EngineError, type GlobalOptions, UsageError } from "./context";
import * as deploy from "./deploy";
import * as destroy from "./destroy";
import * as info from "./info";
import * as init from "./init";
import * as kolla from "./kolla";
import * as newStack from "./new";
import * as os from "./os";
import * as preview from "./preview";
import * as tunnel from "./ssh-tunnel";
import * as tc from "./tc";
import * as up from "./up";

/** The reservation file a verb uses when the working directory has one and neither -f nor --stack is given. */
const RESERVATION = "reservation.yaml";

/**
 * Enos' verbs over the project's Pulumi stacks (the same program, state and CLI as `pulumi up`).
 * Each verb's action resolves to its exit code: 0 done, 1 failed, 2 usage.
 */
function program(): Command {
  const enos = new Command("enos")
    .description("Reproducible OpenStack experiments on testbeds: Enos' verbs over this project's Pulumi stacks")
    .option(
      "-S, --stack <name>",
      "the stack (one experiment on one testbed: Pulumi.<name>.yaml); " +
        "default: with ./reservation.yaml or -f the file's own, else dev",
    )
    .option(
      "-f, --file <reservation.yaml>",
      "an Enos reservation file as the experiment (default ./reservation.yaml when there): " +
        "the stack named after it (created, with enos:reservationFile), or --stack's",
    )
    .addOption(
      new Option("-v, --verbose", "more engine output (-vv: the engine's logs too)")
        .argParser((_v, previous: number) => previous + 1)
        .default(0),
    )
    .option("-s, --silent", "no progress output, only results and errors")
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError("(enos <verb> --help lists every option of a verb)")
    .exitOverride();
  for (const verb of [newStack, check, deploy, up, os, init, bench, tc, backup, info, tunnel, preview, destroy, kolla])
    verb.register(enos);
  for (const command of enos.commands) command.exitOverride();
  enos.hook("preAction", (_enos, verb) => {
    // Enos' -f defaulted to ./reservation.yaml; `new` is what writes it (`enos new > reservation.yaml`).
    const options = enos.opts<GlobalOptions>();
    if (verb.name() === "new" || options.file || options.stack || !fs.existsSync(RESERVATION)) return;
    enos.setOptionValue("file", RESERVATION);
    console.error(`enos: using ./${RESERVATION} (Enos' default -f; --stack dev for the dev stack)`);
  });
  return enos;
}

async function main(argv: string[]): Promise<number> {
  const enos = program();
  try {
    await enos.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError) {
      console.error(`enos: ${error.message}`);
      return 2;
    }
    throw error;
  }
  return Number(process.exitCode ?? 0);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    // Config errors list every problem with its key; engine errors each failing resource's.
    if (error instanceof ConfigError) console.error(error.message);
    else if (error instanceof EngineError) console.error(`enos: failed:\n${error.message}`);
    else console.error(`enos: ${error.message ?? error}`);
    process.exit(1);
  },
);
