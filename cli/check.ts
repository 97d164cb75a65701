import type { Command } from "commander";
import { GlobalOptions, exitWith, validate } from "./context";

/** `enos check`: validate a configuration without touching anything, and print it normalized. */
export function register(program: Command) {
  program.command("check")
    .description("validate a configuration (-f reservation.yaml, or the stack's) and print it normalized; every error names its key and the fix")
    .action(exitWith(async (_options: object, command: Command) => {
      console.log(JSON.stringify(validate(command.optsWithGlobals<GlobalOptions>()), null, 2));
      return 0;
    }));
}
