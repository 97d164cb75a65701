import type { Command } from "commander";
import { exitWith, type GlobalOptions, settledStack, stackName, validate, withEngine } from "./context";

export function register(program: Command) {
  program
    .command("preview")
    .description("show what deploy would change (= pulumi preview)")
    .action(
      exitWith(async (_options: object, command: Command) => {
        const options = command.optsWithGlobals<GlobalOptions>();
        const name = stackName(options, true);
        validate({ ...options, file: undefined, stack: name });
        const stack = await settledStack(name, false, true);
        await withEngine(options, (output) => stack.preview({ ...output, parallel: 64 }));
        return 0;
      }),
    );
}
