import type { Provider } from "@pulumi/pulumi/provider";
import { currentTimeout, engineLog } from "../shared/engine";
import type { Plugin } from "../shared/serve";
import { diff, Kind, newId, previousOf, runCommand, typeOf } from "./lifecycle";
import { local } from "./local";
import { Props, reveal } from "./properties";
import { remote } from "./remote/command";

const PLUGIN = "pulumi-resource-command (enos-pulumi's own)";

function kindOf(urn: string): Kind {
  const type = typeOf(urn);
  if (type === "command:local:Command") return local;
  if (type === "command:remote:Command") return remote;
  throw new Error(`${PLUGIN} serves command:local:Command and command:remote:Command, not ${type}`);
}

const UNSUPPORTED = ["assetPaths", "archivePaths"];

/** A command string as it arrives: plain, or a secret (built from a password, say). */
function commandText(value: Props[string] | undefined): string | undefined {
  const revealed = value === undefined ? undefined : reveal(value).value;
  return typeof revealed === "string" ? revealed : undefined;
}

/**
 * The resource contracts of @pulumi/command (the SDK these serve) for `command:local:Command`,
 * `command:remote:Command` and the `command:local:run` invoke. Its commands stop when the engine
 * cancels (Ctrl-C, before it stops the plugin) and when the plugin stops.
 */
export function commandPlugin(version: string, engine: string | undefined): Plugin {
  const log = engineLog(engine);
  const cancel = new AbortController();
  const running = new Set<Promise<unknown>>();

  /** Runs a resource's command; the plugin does not exit under it. */
  const run = (kind: Kind, urn: string, command: string | undefined, props: Props, previous = previousOf({})) => {
    const limits = { timeoutSeconds: currentTimeout(), cancelled: cancel.signal };
    const outs = runCommand(kind, command, props, previous, (line) => log(urn, line), limits);
    const settled = outs.then(() => undefined, () => undefined);
    running.add(settled);
    void settled.then(() => running.delete(settled));
    return outs;
  };

  const provider: Provider = {
    version,

    async check(_urn, _olds, news: Props) {
      const failures = UNSUPPORTED.filter((k) => news[k] !== undefined && news[k] !== null).map((property) => ({
        property,
        reason: `enos-pulumi's command plugin collects no assets or archives: drop ${property}`,
      }));
      return { inputs: news, failures };
    },

    async diff(_id, _urn, olds: Props, news: Props) {
      return diff(olds, news);
    },

    async create(urn, inputs: Props) {
      return { id: newId(urn), outs: await run(kindOf(urn), urn, commandText(inputs.create), inputs) };
    },

    async update(_id, urn, olds: Props, news: Props) {
      const command = commandText(news.update) ?? commandText(news.create);
      return { outs: await run(kindOf(urn), urn, command, news, previousOf(olds)) };
    },

    async delete(_id, urn, props: Props) {
      const command = commandText(props.delete);
      if (command !== undefined) await run(kindOf(urn), urn, command, props, previousOf(props));
    },

    async invoke(token, inputs: Props) {
      if (token !== "command:local:run") throw new Error(`${PLUGIN} has no function ${token}`);
      const command = commandText(inputs.command);
      if (command === undefined) throw new Error("command:local:run needs a command");
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
