/**
 * pulumi-language-nodejs: the nodejs language host the Pulumi CLI starts to run a program from a project
 * directory. No registry here carries the official (Go) one; this one follows its behaviour
 * (pulumi/pulumi sdk/nodejs/cmd/pulumi-language-nodejs/main.go) for what the CLI calls.
 *
 * It is copied beside the CLI binary and serves every clone, so at run time it imports only node
 * built-ins: gRPC and Pulumi's service definitions come from the program's own @pulumi/pulumi (its
 * directory is the working directory the CLI starts us in).
 *
 * Usage (by the CLI): pulumi-language-nodejs [--logtostderr] [-v=N] [--tracing URL] <engine-address>
 */
import { ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import { createRequire } from "node:module";
import * as path from "node:path";
// The module object itself (not an import copy of it): the SDK must see the guarded inspect.
import util = require("node:util");
import type * as grpc from "@grpc/grpc-js";
import type * as structPb from "google-protobuf/google/protobuf/struct_pb";
import type * as emptyPb from "google-protobuf/google/protobuf/empty_pb";
import type * as enginePb from "@pulumi/pulumi/proto/engine_pb";
import type * as engineGrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import type * as langPb from "@pulumi/pulumi/proto/language_pb";
import type * as langGrpc from "@pulumi/pulumi/proto/language_grpc_pb";
import type * as pluginPb from "@pulumi/pulumi/proto/plugin_pb";

/** `@pulumi/pulumi/cmd/run` exits with this code once it has shown the user an actionable message. */
const ERROR_ALREADY_REPORTED = 32;
/** The CLI kills a plugin 5 s after interrupting it: a cancelled program gets less than that to stop. */
const STOP_GRACE_MS = 3000;
/** How often the engine is checked for life; with the engine gone nobody will ever stop us. */
const ENGINE_CHECK_MS = 5000;
/** As the Go SDK's rpcutil: resource states can be large. */
const MAX_MESSAGE = 400 * 1024 * 1024;
const GRPC_OPTIONS = { "grpc.max_receive_message_length": MAX_MESSAGE, "grpc.max_send_message_length": MAX_MESSAGE };

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

/** The modules the host needs, all from the program's @pulumi/pulumi so that they are its instances. */
interface Sdk {
  version: string;
  grpc: typeof grpc;
  lang: typeof langPb;
  langGrpc: typeof langGrpc;
  plugin: typeof pluginPb;
  engine: typeof enginePb;
  engineGrpc: typeof engineGrpc;
  empty: typeof emptyPb;
  struct: typeof structPb;
}

/** Resolves a module of the SDK as the program will: from its own directory. */
function resolveFromProgram(programDir: string, request: string): string {
  try {
    return createRequire(path.join(programDir, "pulumi-language-nodejs")).resolve(request);
  } catch (err) {
    const why = (err as Error).message.split("\n")[0];
    throw new Error(`cannot load ${request} from ${programDir} (${why}): install the project's dependencies (npm ci) first`);
  }
}

function loadSdk(programDir: string): Sdk {
  let sdkPackage: string;
  try {
    sdkPackage = resolveFromProgram(programDir, "@pulumi/pulumi/package.json");
  } catch (err) {
    fail((err as Error).message);
  }
  const fromSdk = createRequire(sdkPackage);
  return {
    version: fromSdk("./package.json").version,
    grpc: fromSdk("@grpc/grpc-js"),
    lang: fromSdk("./proto/language_pb"),
    langGrpc: fromSdk("./proto/language_grpc_pb"),
    plugin: fromSdk("./proto/plugin_pb"),
    engine: fromSdk("./proto/engine_pb"),
    engineGrpc: fromSdk("./proto/engine_grpc_pb"),
    empty: fromSdk("google-protobuf/google/protobuf/empty_pb"),
    struct: fromSdk("google-protobuf/google/protobuf/struct_pb"),
  };
}

/** Pulumi.yaml's `runtime.options`, as the official host reads them. */
interface RuntimeOptions {
  typescript: boolean;
  tsconfig?: string;
  nodeargs: string[];
}

function runtimeOptions(info: langPb.ProgramInfo | undefined): RuntimeOptions {
  const options = info?.getOptions()?.toJavaScript() ?? {};
  const { typescript = true, tsconfig, nodeargs = "" } = options;
  if (typeof typescript !== "boolean") throw new Error(`Pulumi.yaml runtime.options.typescript must be true or false, not ${JSON.stringify(typescript)}`);
  if (tsconfig !== undefined && typeof tsconfig !== "string") throw new Error(`Pulumi.yaml runtime.options.tsconfig must be a path, not ${JSON.stringify(tsconfig)}`);
  if (typeof nodeargs !== "string") throw new Error(`Pulumi.yaml runtime.options.nodeargs must be a string of node flags, not ${JSON.stringify(nodeargs)}`);
  return { typescript, tsconfig, nodeargs: splitWords(nodeargs) };
}

/** Splits like a POSIX shell (quotes and backslashes, no expansion), as the official host's shlex. */
function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word ??= "";
      if (c === "'" || c === '"') quote = c;
      else if (c === "\\" && i + 1 < text.length) word += text[++i];
      else word += c;
    }
  }
  if (quote) throw new Error(`Pulumi.yaml runtime.options.nodeargs has an unclosed ${quote}: ${text}`);
  if (word !== undefined) words.push(word);
  return words;
}

/** The SDK reads config keys as `ns:config:key`; the engine sends `ns:key` (or already the old form). */
function programConfig(config: [string, string][]): string {
  const entries = config.map(([key, value]) => {
    const parts = key.split(":");
    if (parts.length === 2) return [`${parts[0]}:config:${parts[1]}`, value];
    if (parts.length === 3 && parts[1] === "config") return [key, value];
    throw new Error(`config key ${key} is not of the form <namespace>:<name>: rename it with pulumi config`);
  });
  return JSON.stringify(Object.fromEntries(entries));
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** A program running in a process group of its own, so that stopping it stops whatever it started. */
class ProgramProcess {
  readonly exit: Promise<Exit>;
  private stopping = false;

  constructor(readonly child: ChildProcess) {
    this.exit = new Promise((resolve) => {
      child.once("error", (error) => resolve({ code: null, signal: null, error }));
      child.once("exit", (code, signal) => {
        // Its last output is still wanted, but a background process it left holding stderr must not
        // hold up the update.
        const drained = setTimeout(() => child.stderr?.destroy(), STOP_GRACE_MS);
        child.once("close", () => {
          clearTimeout(drained);
          resolve({ code, signal });
        });
      });
    });
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** SIGINT first (the SDK and node flush their output), SIGKILL for the group after a grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.signalGroup("SIGINT");
    const timer = new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref());
    await Promise.race([this.exit, timer]);
    // Children the program started may outlive its main process: the group goes in every case.
    this.signalGroup("SIGKILL");
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // ESRCH: nothing left in the group.
    }
  }
}

/** Finds a file from a directory upwards, as npm does for package.json and the lock file. */
function searchUp(dir: string, name: string): string | undefined {
  for (let current = dir; ; current = path.dirname(current)) {
    if (fs.existsSync(path.join(current, name))) return path.join(current, name);
    if (path.dirname(current) === current) return undefined;
  }
}

/**
 * The program's dependencies: from package-lock.json like the official host, else (no lock file, e.g. a
 * linked node_modules) the versions installed for package.json's own dependencies.
 */
function programDependencies(programDir: string, transitive: boolean): { name: string; version: string }[] {
  const manifest = searchUp(programDir, "package.json");
  if (!manifest) throw new Error(`no package.json in ${programDir} or above: a nodejs program needs one`);
  const { dependencies = {}, devDependencies = {} } = JSON.parse(fs.readFileSync(manifest, "utf8"));
  const direct = new Set([...Object.keys(dependencies), ...Object.keys(devDependencies)]);
  const lockFile = path.join(path.dirname(manifest), "package-lock.json");
  if (fs.existsSync(lockFile)) {
    const packages: Record<string, { version?: string }> = JSON.parse(fs.readFileSync(lockFile, "utf8")).packages ?? {};
    // Keys are install paths: node_modules/a, node_modules/a/node_modules/b (a nested copy of b).
    const installed = Object.entries(packages).flatMap(([key, { version }]) => {
      const name = key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
      const wanted = transitive ? key.startsWith("node_modules/") : key === `node_modules/${name}` && direct.has(name);
      return wanted && version ? [{ name, version }] : [];
    });
    return installed.filter((dep, i) => installed.findIndex((d) => d.name === dep.name && d.version === dep.version) === i);
  }
  const requireFromManifest = createRequire(manifest);
  return [...direct].map((name) => {
    try {
      return { name, version: requireFromManifest(`${name}/package.json`).version };
    } catch {
      return { name, version: "not installed" };
    }
  });
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const sdk = loadSdk(process.cwd());
  if (args.version) {
    process.stdout.write(`${sdk.version}\n`);
    return;
  }
  const debug = (message: string) => {
    if (args.logToStderr && args.verbose >= 5) process.stderr.write(`pulumi-language-nodejs: ${message}\n`);
  };
  const { grpc: g, lang, plugin } = sdk;
  const programs = new Set<ProgramProcess>();
  let engineAddress = args.engineAddress;
  let engineCheck: NodeJS.Timeout | undefined;

  const stopPrograms = () => Promise.all([...programs].map((p) => p.stop()));
  let shuttingDown = false;
  const shutDown = async (why: string) => {
    // A second signal while the programs stop changes nothing: the CLI kills us after 5 s anyway.
    if (shuttingDown) return;
    shuttingDown = true;
    debug(`shutting down: ${why}`);
    await stopPrograms();
    server.forceShutdown();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutDown("SIGINT"));
  process.on("SIGTERM", () => void shutDown("SIGTERM"));

  /** Like the official host: an engine that no longer answers means the CLI is gone. */
  const watchEngine = (address: string) => {
    clearInterval(engineCheck);
    const client = new g.Client(address, g.credentials.createInsecure());
    engineCheck = setInterval(() => {
      client.makeUnaryRequest("/grpc.health.v1.Health/Check", () => Buffer.alloc(0), (b: Buffer) => b, {}, (err) => {
        if (err && err.code !== g.status.UNIMPLEMENTED) void shutDown(`engine ${address} unreachable (${err.details})`);
      });
    }, ENGINE_CHECK_MS);
    engineCheck.unref();
  };
  if (engineAddress) watchEngine(engineAddress);

  /** Asks the engine to attach a debugger to a program started with --inspect-brk. */
  const startDebugging = (child: ChildProcess, port: number) => new Promise<void>((resolve, reject) => {
    if (!engineAddress) return reject(new Error("no engine address to ask for a debugger"));
    const engine = new sdk.engineGrpc.EngineClient(engineAddress, g.credentials.createInsecure());
    const request = new sdk.engine.StartDebuggingRequest();
    request.setConfig(sdk.struct.Struct.fromJavaScript({
      name: "Pulumi: Program (nodejs)", type: "node", request: "attach", processId: child.pid ?? 0,
      continueOnAttach: true, skipFiles: ["<node_internals>/**"], port,
    }));
    request.setMessage(`on process id ${child.pid} and port ${port}`);
    engine.startDebugging(request, (err) => {
      engine.close();
      if (err) reject(new Error(`unable to start debugging: ${err.details}`));
      else resolve();
    });
  });

  const runProgram = async (req: langPb.RunRequest, call: grpc.ServerUnaryCall<langPb.RunRequest, langPb.RunResponse>): Promise<langPb.RunResponse> => {
    const response = new lang.RunResponse();
    const info = req.getInfo();
    const programDir = info?.getProgramDirectory() || req.getPwd();
    const entryPoint = info?.getEntryPoint() || req.getProgram() || ".";
    const options = runtimeOptions(info);
    let runScript: string;
    try {
      runScript = resolveFromProgram(programDir, "@pulumi/pulumi/cmd/run");
    } catch (err) {
      return response.setError((err as Error).message);
    }
    const flags: [string, string | undefined][] = [
      ["--monitor", req.getMonitorAddress()], ["--engine", engineAddress], ["--organization", req.getOrganization()],
      ["--project", req.getProject()], ["--root-directory", info?.getRootDirectory()], ["--stack", req.getStack()],
      ["--pwd", programDir],
    ];
    const runArgs = [runScript, ...flags.filter(([, v]) => v).flatMap(([k, v]) => [k, v as string])];
    if (req.getDryrun()) runArgs.push("--dry-run");
    runArgs.push("--parallel", String(req.getParallel()));
    if (args.tracing) runArgs.push("--tracing", args.tracing);
    runArgs.push(entryPoint, ...req.getArgsList());

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PULUMI_CONFIG: programConfig(req.getConfigMap().toObject()),
      PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
    };
    // Pulumi.yaml decides, not an inherited environment.
    env.PULUMI_NODEJS_TYPESCRIPT = String(options.typescript);
    if (options.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
    // Not the official 9229-and-up search: any free port does, the engine is told which.
    const debugPort = req.getAttachDebugger() ? await freePort() : undefined;
    const nodeArgs = [...options.nodeargs, "--require", __filename, ...(debugPort ? [`--inspect-brk=${debugPort}`, "--inspect-publish-uid=http"] : [])];
    debug(`running ${process.execPath} ${[...nodeArgs, ...runArgs].join(" ")} in ${programDir}`);

    // stdout goes straight to the CLI, which shows it; stderr is also scanned for node running out of memory.
    const child = spawn(process.execPath, [...nodeArgs, ...runArgs], { cwd: programDir, env, detached: true, stdio: ["ignore", "inherit", "pipe"] });
    const program = new ProgramProcess(child);
    programs.add(program);
    let outOfMemory = false;
    child.stderr?.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      outOfMemory ||= chunk.includes("JavaScript heap out of memory");
    });
    // The CLI drops the call when it gives up on the update: the program must not run on alone.
    call.once("cancelled", () => void program.stop());
    if (debugPort) await startDebugging(child, debugPort).catch((err: Error) => { response.setError(err.message); void program.stop(); });
    const { code, signal, error } = await program.exit;
    programs.delete(program);
    if (response.getError()) return response;
    if (error) return response.setError(`could not run ${process.execPath} for the program ${entryPoint}: ${error.message}`);
    if (code === 0) return response;
    if (code === ERROR_ALREADY_REPORTED) return response.setBail(true);
    if (program.stopped) return response.setError(`the program ${entryPoint} was cancelled`);
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const hint = outOfMemory ? ": node ran out of memory; raise it with Pulumi.yaml runtime.options.nodeargs: --max-old-space-size=<MiB>" : " (see its output above)";
    return response.setError(`the program ${path.join(programDir, entryPoint)} ${how}${hint}`);
  };

  const about = async (info: langPb.ProgramInfo | undefined): Promise<langPb.AboutResponse> => {
    const response = new lang.AboutResponse().setExecutable(process.execPath).setVersion(process.version);
    const metadata = response.getMetadataMap().set("packagemanager", "npm");
    const npmVersion = await new Promise<string>((resolve) =>
      execFile("npm", ["--version"], (err, stdout) => resolve(err ? "" : stdout.trim())));
    if (npmVersion) metadata.set("packagemanagerVersion", npmVersion);
    try {
      const programRequire = createRequire(path.join(info?.getProgramDirectory() || process.cwd(), "pulumi-language-nodejs"));
      metadata.set("typescriptVersion", programRequire("typescript/package.json").version);
    } catch {
      // No TypeScript in the program: nothing to report.
    }
    return response;
  };

  /** `npm ci` where a lock file pins the dependencies, else `npm install`; output streamed to the CLI. */
  const installDependencies = (call: grpc.ServerWritableStream<langPb.InstallDependenciesRequest, langPb.InstallDependenciesResponse>) => {
    const start = call.request.getInfo()?.getProgramDirectory() || call.request.getDirectory();
    const send = (stdout: Uint8Array, stderr: Uint8Array = new Uint8Array()) =>
      call.write(new lang.InstallDependenciesResponse().setStdout(stdout).setStderr(stderr));
    // grpc-js ends a server stream with this status when "error" is emitted on it.
    const failWith = (details: string) => call.emit("error", { code: g.status.UNKNOWN, details });
    const manifest = searchUp(start, "package.json");
    if (!manifest) {
      failWith(`no package.json in ${start} or above: nothing to install`);
      return;
    }
    const projectDir = path.dirname(manifest);
    const npmArgs = fs.existsSync(path.join(projectDir, "package-lock.json")) ? ["ci"] : ["install"];
    npmArgs.push("--loglevel=error", "--no-audit", "--no-fund");
    send(Buffer.from(`Installing dependencies (npm ${npmArgs[0]} in ${projectDir})...\n\n`));
    const npm = spawn("npm", npmArgs, { cwd: projectDir, stdio: ["ignore", "pipe", "pipe"] });
    npm.stdout.on("data", (chunk: Buffer) => send(chunk));
    npm.stderr.on("data", (chunk: Buffer) => send(new Uint8Array(), chunk));
    call.once("cancelled", () => npm.kill("SIGINT"));
    npm.once("error", (err) => failWith(`could not run npm in ${projectDir}: ${err.message}`));
    npm.once("close", (code, signal) => {
      if (code === 0) {
        send(Buffer.from("Finished installing dependencies\n\n"));
        call.end();
      } else if (code !== null || signal !== null) {
        failWith(`npm ${npmArgs[0]} in ${projectDir} ${signal ? `was killed by ${signal}` : `exited with code ${code}`} (see its output above)`);
      }
    });
  };

  /** Turns a handler's exception into a gRPC error that names it, instead of an unanswered call. */
  const unary = <Req, Res>(name: string, handle: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> =>
    (call, callback) => {
      Promise.resolve().then(() => handle(call.request, call)).then(
        (res) => callback(null, res),
        (err: Error) => callback({ code: g.status.UNKNOWN, details: `${name}: ${err.message}` }),
      );
    };

  const service: Pick<langGrpc.ILanguageRuntimeServer,
    "getPluginInfo" | "getRequiredPlugins" | "getRequiredPackages" | "run" | "about" | "getProgramDependencies" |
    "installDependencies" | "handshake" | "cancel"> = {
    getPluginInfo: unary("GetPluginInfo", () => new plugin.PluginInfo().setVersion(sdk.version)),
    // Reported as none: the packages in node_modules would make the CLI download their plugins (e.g.
    // openstack's), which nothing here can; the engine loads a provider plugin when a resource needs it.
    getRequiredPlugins: unary("GetRequiredPlugins", () => new lang.GetRequiredPluginsResponse()),
    getRequiredPackages: unary("GetRequiredPackages", () => new lang.GetRequiredPackagesResponse()),
    run: unary("Run", runProgram),
    about: unary("About", (req) => about(req.getInfo())),
    getProgramDependencies: unary("GetProgramDependencies", (req) => {
      const dir = req.getInfo()?.getProgramDirectory() || req.getPwd();
      return new lang.GetProgramDependenciesResponse().setDependenciesList(programDependencies(dir, req.getTransitivedependencies())
        .map(({ name, version }) => new lang.DependencyInfo().setName(name).setVersion(version)));
    }),
    installDependencies,
    // Attach mode: the engine tells a host it did not start where it is.
    handshake: unary("Handshake", (req) => {
      engineAddress = req.getEngineAddress();
      watchEngine(engineAddress);
      return new lang.LanguageHandshakeResponse();
    }),
    cancel: unary("Cancel", async () => {
      await stopPrograms();
      return new sdk.empty.Empty();
    }),
  };

  const server = new g.Server(GRPC_OPTIONS);
  server.addService(sdk.langGrpc.LanguageRuntimeService, service);
  server.bindAsync("127.0.0.1:0", g.ServerCredentials.createInsecure(), (err, port) => {
    if (err) fail(`cannot listen on 127.0.0.1: ${err.message}`);
    // The CLI reads this first line as our port; nothing may be printed before it.
    process.stdout.write(`${port}\n`);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Node 20.20's `util.inspect(error, { colors: true })` never returns when a stack frame's path ends in a
 * node_modules segment with no separator after it (nodejs/node#64011, fixed by #64022), and
 * @pulumi/pulumi's source maps place its own frames at `node_modules/@pulumi/<file>.ts`: the SDK prints
 * a program's uncaught error with exactly that call, so a program that throws would spin until node runs
 * out of memory instead of reporting the error. Preloaded into every program (--require), this prints
 * such errors without colours. Harmless once node is fixed; remove it then.
 */
function guardErrorInspection(): void {
  const inspect = util.inspect;
  const hangs = /[\\/]node_modules[\\/](?:@[^\\/\n]*[\\/])?[^\\/\n]*$/m;
  // The SDK (cmd/run/error.js) passes an options object, the only form handled here.
  const guarded = function (this: unknown, value: unknown, options?: unknown, ...rest: unknown[]) {
    if (value instanceof Error && typeof options === "object" && options !== null && "colors" in options &&
        options.colors && hangs.test(String(value.stack))) {
      return inspect.call(this, value, { ...options, colors: false });
    }
    return Reflect.apply(inspect, this, [value, options, ...rest].slice(0, arguments.length));
  };
  // inspect.custom, defaultOptions (a getter/setter), colors and styles stay those of node's inspect.
  const { prototype: _p, length: _l, name: _n, ...properties } = Object.getOwnPropertyDescriptors(inspect);
  Object.defineProperties(guarded, properties);
  Object.defineProperty(util, "inspect", { value: guarded });
}

// The CLI runs this file as its language host; the host preloads it into the programs it runs.
if (require.main === module) main();
else guardErrorInspection();
