import type { Command } from "commander";
import { GlobalOptions, engineOutput, exitWith, settledStack, stackName, validate } from "./context";

export function register(program: Command) {
  program.command("preview")
    .description("show what deploy would change (= pulumi preview)")
    .action(exitWith(async (_options: object, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const name = stackName(options, true);
      validate({ ...options, file: undefined, stack: name });
      await (await settledStack(name, false, true)).preview({ ...engineOutput(options), parallel: 64 });
      return 0;
    }));
}
