/**
 * pulumi-language-nodejs: the nodejs language host the Pulumi CLI starts to run a program from a project
 * directory. No registry here carries the official (Go) one; this one follows its behaviour
 * (pulumi/pulumi sdk/nodejs/cmd/pulumi-language-nodejs/main.go) for what the CLI calls, and builds a
 * TypeScript program that asks for incremental builds before running it (see build.ts).
 *
 * It is copied beside the CLI binary and serves every clone, so at run time it imports only node
 * built-ins and its own files: gRPC and Pulumi's service definitions come from the program's own
 * @pulumi/pulumi (its directory is the working directory the CLI starts us in).
 *
 * Usage (by the CLI): pulumi-language-nodejs [--logtostderr] [-v=N] [--tracing URL] <engine-address>
 */
import { NodeLanguageHost } from "./host";
import { loadSdk, type Sdk } from "./sdk";

interface Args {
  engineAddress?: string;
  tracing?: string;
  verbose: number;
  logToStderr: boolean;
  version: boolean;
}

/** The flags Go's `flag` package would accept: `-x`/`--x`, `=value` or the next word. */
function parseArgs(argv: string[]): Args {
  const args: Args = { verbose: 0, logToStderr: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const match = /^--?([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!match) {
      args.engineAddress = argv[i];
      continue;
    }
    const [, name, inline] = match;
    const value = () => inline ?? argv[++i];
    if (name === "tracing") args.tracing = value();
    else if (name === "v") args.verbose = Number(value());
    else if (name === "logtostderr") args.logToStderr = inline !== "false";
    else if (name === "version") args.version = true;
    else if (name === "runtime") {
      if (value() !== "nodejs") fail(`unsupported runtime ${argv[i]}: this host runs nodejs only`);
    } else fail(`unknown flag ${argv[i]}`);
  }
  return args;
}

function fail(message: string): never {
  process.stderr.write(`pulumi-language-nodejs: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let sdk: Sdk;
  try {
    sdk = loadSdk(process.cwd());
  } catch (err) {
    fail((err as Error).message);
  }
  if (args.version) {
    process.stdout.write(`${sdk.version}\n`);
    return;
  }
  const debug = (message: string) => {
    if (args.logToStderr && args.verbose >= 5) process.stderr.write(`pulumi-language-nodejs: ${message}\n`);
  };
  const host = new NodeLanguageHost(sdk, { engineAddress: args.engineAddress, tracing: args.tracing, debug });
  process.on("SIGINT", () => void host.shutDown("SIGINT"));
  process.on("SIGTERM", () => void host.shutDown("SIGTERM"));
  const port = await host.serve().catch((err: Error) => fail(err.message));
  // The CLI reads this first line as our port; nothing may be printed before it.
  process.stdout.write(`${port}\n`);
}

void main();
