import type { Command } from "commander";
import { exitWith, type GlobalOptions, update } from "./context";

export function register(program: Command) {
  program
    .command("init")
    .description("initialise OpenStack (images, flavors, networks, a smoke boot), deploying what it needs first")
    .action(
      exitWith(async (_options: object, command: Command) => update(command.optsWithGlobals<GlobalOptions>(), "init")),
    );
}
