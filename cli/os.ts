import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { kollaCopyFor } from "../components/kolla";
import type { Host, TestbedNetwork } from "../config/types";
import { passwordsTemplate } from "../kolla/install";
import { maskSecrets, secretKinds } from "../kolla/passwords";
import { inventoryProblems, inventoryTemplate, renderKollaFiles, staticHostsOf } from "../kolla/render";
import { exitWith, type GlobalOptions, stackName, UsageError, update, upRecord, validate } from "./context";
import { runKollaAnsible } from "./kolla";

interface OsOptions {
  reconfigure?: boolean;
  pull?: boolean;
  tags?: string;
  render?: boolean;
  out?: string;
}

/** Writes the inventory, globals.yml and masked passwords.yml a deploy would hand kolla-ansible. */
async function render(options: GlobalOptions, out: string): Promise<number> {
  const config = validate(options);
  let testbed: { hosts: Host[]; network: TestbedNetwork };
  if (options.file || config.provider.type === "static") {
    testbed = staticHostsOf(config);
  } else {
    testbed = await upRecord(stackName(options));
  }
  const problem = inventoryProblems(inventoryTemplate(config), testbed.hosts);
  if (problem) throw new Error(problem);
  const copy = kollaCopyFor(config);
  const template = passwordsTemplate(copy);
  if (!fs.existsSync(template))
    throw new Error(`${copy.requirement} is not installed yet (${copy.venv}); enos os (or deploy) installs it`);
  const masked = maskSecrets(secretKinds(fs.readFileSync(template, "utf8")));
  const files = renderKollaFiles(config, testbed.hosts, testbed.network, masked);
  fs.mkdirSync(out, { recursive: true });
  const written = Object.entries({
    multinode: files.multinode,
    "globals.yml": files.globals,
    "passwords.yml": files.passwords,
  }).map(([name, text]) => {
    fs.writeFileSync(path.join(out, name), text);
    return path.join(out, name);
  });
  console.log(`wrote ${written.join(", ")}`);
  return 0;
}

/**
 * `enos os`: the Kolla phase as a targeted update. --reconfigure, --pull and -t run kolla-ansible by
 * hand on the deployed cloud, as Enos did; --render is the dry run.
 */
export function register(program: Command) {
  program
    .command("os")
    .description("deploy OpenStack with kolla-ansible (in check mode: check it), after what it needs")
    .option("--reconfigure", "run kolla-ansible reconfigure on the deployed cloud (with -t: only those services)")
    .option("--pull", "run kolla-ansible pull only (with -t: only those services' images)")
    .option(
      "-t, --tags <tags>",
      "kolla-ansible tags: with neither --reconfigure nor --pull, run kolla-ansible deploy --tags",
    )
    .option(
      "--render",
      "dry run: write the inventory, globals.yml and passwords.yml (values masked) to --out, touching nothing",
    )
    .option("--out <dir>", "where --render writes")
    .addHelpText(
      "after",
      "\nWith --render, a static testbed's hosts come from its config (-f works), other testbeds' from the stack once it is up.",
    )
    .action(
      exitWith(async (options: OsOptions, command: Command) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        if (options.render) {
          if (!options.out) throw new UsageError("os --render needs --out DIR");
          return render(global, options.out);
        }
        if (options.reconfigure && options.pull)
          throw new UsageError("--reconfigure and --pull are two runs: ask for one at a time");
        const tags = options.tags ? ["--tags", options.tags] : [];
        if (options.reconfigure) return runKollaAnsible(global, ["reconfigure", ...tags]);
        if (options.pull) return runKollaAnsible(global, ["pull", ...tags]);
        if (options.tags) return runKollaAnsible(global, ["deploy", ...tags]);
        return update(global, "os");
      }),
    );
}
