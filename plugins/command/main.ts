import { main, Provider } from "@pulumi/pulumi/provider";
import { captureRequestTimeouts, currentTimeout, engineAddress, engineLog } from "./engine";
import { diff, Kind, Limits, newId, previousOf, runCommand, typeOf } from "./lifecycle";
import { local } from "./local";
import { Props, reveal } from "./properties";
import { remote } from "./remote/command";

/**
 * pulumi-resource-command, enos-pulumi's own: the resource contracts of @pulumi/command (the SDK
 * these serve) for `command:local:Command`, `command:remote:Command` and the `command:local:run`
 * invoke. The official Go plugin can be neither downloaded nor built here (see TOOLCHAIN.md).
 */
const version: string = require("@pulumi/command/package.json").pulumi.version;

const args = process.argv.slice(2);
const log = engineLog(engineAddress(args));
// The engine calls Cancel on Ctrl-C before it stops the plugin: running commands are stopped with it.
const cancel = new AbortController();

function kindOf(urn: string): Kind {
  const type = typeOf(urn);
  if (type === "command:local:Command") return local;
  if (type === "command:remote:Command") return remote((line) => log(urn, line));
  throw new Error(`pulumi-resource-command (enos-pulumi's own) serves command:local:Command and command:remote:Command, not ${type}`);
}

const limits = (): Limits => ({ timeoutSeconds: currentTimeout(), cancelled: cancel.signal });

const UNSUPPORTED = ["assetPaths", "archivePaths"];

/** A command string as it arrives: plain, or a secret (built from a password, say). */
function commandText(value: Props[string] | undefined): string | undefined {
  const revealed = value === undefined ? undefined : reveal(value).value;
  return typeof revealed === "string" ? revealed : undefined;
}

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
    const create = commandText(inputs.create);
    const outs = await runCommand(kindOf(urn), create, inputs, { stdout: "", stderr: "" }, (line) => log(urn, line), limits());
    return { id: newId(urn), outs };
  },

  async update(_id, urn, olds: Props, news: Props) {
    const command = commandText(news.update) ?? commandText(news.create);
    return { outs: await runCommand(kindOf(urn), command, news, previousOf(olds), (line) => log(urn, line), limits()) };
  },

  async delete(_id, urn, props: Props) {
    const command = commandText(props.delete);
    if (command === undefined) return;
    await runCommand(kindOf(urn), command, props, previousOf(props), (line) => log(urn, line), limits());
  },

  async invoke(token, inputs: Props) {
    if (token !== "command:local:run") throw new Error(`pulumi-resource-command (enos-pulumi's own) has no function ${token}`);
    const command = commandText(inputs.command);
    if (command === undefined) throw new Error("command:local:run needs a command");
    const outputs = await runCommand(local, command, inputs, { stdout: "", stderr: "" }, (line) => log("", line), limits());
    return { outputs };
  },

  async cancel() {
    cancel.abort();
  },
};

captureRequestTimeouts();
main(provider, args);
