import type { Provider } from "@pulumi/pulumi/provider";
import { currentTimeout, engineLog } from "../shared/engine";
import type { Plugin } from "../shared/serve";
import { typeOf, type WireProps } from "../shared/wire";
import type { CommandInputs } from "./inputs";
import { diff, type Kind, newId, previousOf, runCommand } from "./lifecycle";
import { local } from "./local";
import { remote } from "./remote/command";

const PLUGIN = "pulumi-resource-command (enos-pulumi's own)";

function kindOf(urn: string): Kind {
  const type = typeOf(urn);
  if (type === "command:local:Command") return local;
  if (type === "command:remote:Command") return remote;
  throw new Error(`${PLUGIN} serves command:local:Command and command:remote:Command, not ${type}`);
}

const UNSUPPORTED = ["assetPaths", "archivePaths"];

/**
 * The resource contracts of @pulumi/command (the SDK these serve) for `command:local:Command`,
 * `command:remote:Command` and the `command:local:run` invoke. Its commands stop when the engine
 * cancels (Ctrl-C, before it stops the plugin) and when the plugin stops.
 */
export function commandPlugin(version: string, engine: string | undefined): Plugin {
  const log = engineLog(engine);
  const cancel = new AbortController();
  const running = new Set<Promise<unknown>>();

  /** Runs the command `pick` chooses; the plugin does not exit under it. */
  const run = <I extends CommandInputs>(
    kind: Kind<I>,
    urn: string,
    pick: (inputs: I) => string | undefined,
    props: WireProps,
    previous = previousOf({}),
  ) => {
    const limits = { timeoutSeconds: currentTimeout(), cancelled: cancel.signal };
    const outs = runCommand(kind, pick, props, previous, (line) => log(urn, line), limits);
    const settled = outs.then(
      () => undefined,
      () => undefined,
    );
    running.add(settled);
    void settled.then(() => running.delete(settled));
    return outs;
  };

  const provider: Provider = {
    version,

    async check(_urn, _olds, news: WireProps) {
      const failures = UNSUPPORTED.filter((k) => news[k] !== undefined && news[k] !== null).map((property) => ({
        property,
        reason: `enos-pulumi's command plugin collects no assets or archives: drop ${property}`,
      }));
      return { inputs: news, failures };
    },

    async diff(_id, _urn, olds: WireProps, news: WireProps) {
      return diff(olds, news);
    },

    async create(urn, inputs: WireProps) {
      return { id: newId(urn), outs: await run(kindOf(urn), urn, (i) => i.create, inputs) };
    },

    async update(_id, urn, olds: WireProps, news: WireProps) {
      return { outs: await run(kindOf(urn), urn, (i) => i.update ?? i.create, news, previousOf(olds)) };
    },

    async delete(_id, urn, props: WireProps) {
      await run(kindOf(urn), urn, (i) => i.delete, props, previousOf(props));
    },

    async invoke(token, inputs: WireProps) {
      if (token !== "command:local:run") throw new Error(`${PLUGIN} has no function ${token}`);
      const command = (i: { command?: string }) => {
        if (i.command === undefined) throw new Error("command:local:run needs a command");
        return i.command;
      };
      return { outputs: await run(local, "", command, inputs) };
    },

    async cancel() {
      cancel.abort();
    },
  };

  return {
    provider,
    async stop() {
      cancel.abort();
      await Promise.all(running);
    },
  };
}
