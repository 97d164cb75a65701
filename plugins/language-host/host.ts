import { type ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import type * as grpc from "@grpc/grpc-js";
import type * as langGrpc from "@pulumi/pulumi/proto/language_grpc_pb";
import type * as langPb from "@pulumi/pulumi/proto/language_pb";
import { watchEngine } from "../engine-watch";
import { buildProgram } from "./build";
import { programDependencies, searchUp } from "./dependencies";
import { programConfig, type RuntimeOptions, runtimeOptions } from "./options";
import { freePort, ProgramProcess } from "./program";
import { resolveFromProgram, type Sdk } from "./sdk";

/** `@pulumi/pulumi/cmd/run` exits with this code once it has shown the user an actionable message. */
const ERROR_ALREADY_REPORTED = 32;
/** As the Go SDK's rpcutil: resource states can be large. */
const MAX_MESSAGE = 400 * 1024 * 1024;
const GRPC_OPTIONS = { "grpc.max_receive_message_length": MAX_MESSAGE, "grpc.max_send_message_length": MAX_MESSAGE };
/** Preloaded into every program (see the file). */
const PRELOAD = path.join(__dirname, "preload.js");

type Rpc =
  | "getPluginInfo"
  | "getRequiredPlugins"
  | "getRequiredPackages"
  | "run"
  | "about"
  | "getProgramDependencies"
  | "installDependencies"
  | "handshake"
  | "cancel";
type InstallCall = grpc.ServerWritableStream<langPb.InstallDependenciesRequest, langPb.InstallDependenciesResponse>;

export interface HostFlags {
  engineAddress?: string;
  tracing?: string;
  /** Writes a line to stderr when the CLI asked for verbose logs there. */
  debug(message: string): void;
}

/** The LanguageRuntime service, one method per RPC, as Pulumi's Go `nodeLanguageHost`. */
export class NodeLanguageHost {
  private readonly programs = new Set<ProgramProcess>();
  private readonly server: grpc.Server;
  private engineAddress?: string;
  private stopWatch?: () => void;
  private shuttingDown = false;

  constructor(
    private readonly sdk: Sdk,
    private readonly flags: HostFlags,
  ) {
    this.server = new sdk.grpc.Server(GRPC_OPTIONS);
    if (flags.engineAddress) this.attach(flags.engineAddress);
  }

  /** Serves on a free loopback port; returns it. */
  serve(): Promise<number> {
    const unary = this.unary.bind(this);
    const service: Pick<langGrpc.ILanguageRuntimeServer, Rpc> = {
      getPluginInfo: unary("GetPluginInfo", () => this.getPluginInfo()),
      getRequiredPlugins: unary("GetRequiredPlugins", () => this.getRequiredPlugins()),
      getRequiredPackages: unary("GetRequiredPackages", () => this.getRequiredPackages()),
      run: unary("Run", (req, call) => this.run(req, call)),
      about: unary("About", (req) => this.about(req)),
      getProgramDependencies: unary("GetProgramDependencies", (req) => this.getProgramDependencies(req)),
      installDependencies: (call) => this.installDependencies(call),
      handshake: unary("Handshake", (req) => this.handshake(req)),
      cancel: unary("Cancel", () => this.cancel()),
    };
    this.server.addService(this.sdk.langGrpc.LanguageRuntimeService, service);
    return new Promise((resolve, reject) => {
      this.server.bindAsync("127.0.0.1:0", this.sdk.grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(new Error(`cannot listen on 127.0.0.1: ${err.message}`)) : resolve(port),
      );
    });
  }

  /** Stops the programs, then the host (a second call while they stop changes nothing). */
  async shutDown(why: string): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.flags.debug(`shutting down: ${why}`);
    await this.stopPrograms();
    this.server.forceShutdown();
    process.exit(0);
  }

  getPluginInfo() {
    return new this.sdk.plugin.PluginInfo().setVersion(this.sdk.version);
  }

  /**
   * Reported as none: the packages in node_modules would make the CLI download their plugins (e.g.
   * openstack's), which nothing here can; the engine loads a provider plugin when a resource needs it.
   */
  getRequiredPlugins() {
    return new this.sdk.lang.GetRequiredPluginsResponse();
  }

  getRequiredPackages() {
    return new this.sdk.lang.GetRequiredPackagesResponse();
  }

  async run(req: langPb.RunRequest, call: grpc.ServerUnaryCall<langPb.RunRequest, langPb.RunResponse>) {
    const response = new this.sdk.lang.RunResponse();
    const info = req.getInfo();
    const programDir = info?.getProgramDirectory() || req.getPwd();
    let entryPoint = info?.getEntryPoint() || req.getProgram() || ".";
    const options = runtimeOptions(info);
    let runScript: string;
    try {
      runScript = resolveFromProgram(programDir, "@pulumi/pulumi/cmd/run");
      const started = Date.now();
      const built = options.typescript ? await buildProgram(programDir, entryPoint, options.tsconfig) : undefined;
      if (built) {
        this.flags.debug(`built ${entryPoint} into ${built} in ${Date.now() - started} ms`);
        entryPoint = path.relative(programDir, built);
        options.typescript = false;
      }
    } catch (err) {
      return response.setError((err as Error).message);
    }
    // Not the official 9229-and-up search: any free port does, the engine is told which.
    const debugPort = req.getAttachDebugger() ? await freePort() : undefined;
    const debugArgs = debugPort ? [`--inspect-brk=${debugPort}`, "--inspect-publish-uid=http"] : [];
    const nodeArgs = [...options.nodeargs, "--require", PRELOAD, ...debugArgs];
    const args = [...nodeArgs, ...this.runArguments(req, runScript, entryPoint)];
    this.flags.debug(`running ${process.execPath} ${args.join(" ")} in ${programDir}`);

    // stdout goes straight to the CLI, which shows it; stderr is also scanned for node running out of memory.
    const child = spawn(process.execPath, args, {
      cwd: programDir,
      env: this.programEnvironment(req, options),
      detached: true,
      stdio: ["ignore", "inherit", "pipe"],
    });
    const program = new ProgramProcess(child);
    this.programs.add(program);
    let outOfMemory = false;
    child.stderr?.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      outOfMemory ||= chunk.includes("JavaScript heap out of memory");
    });
    // The CLI drops the call when it gives up on the update: the program must not run on alone.
    call.once("cancelled", () => void program.stop());
    if (debugPort) {
      await this.startDebugging(child, debugPort).catch((err: Error) => {
        response.setError(err.message);
        void program.stop();
      });
    }
    const { code, signal, error } = await program.exit;
    this.programs.delete(program);
    if (response.getError()) return response;
    if (error) {
      return response.setError(`could not run ${process.execPath} for the program ${entryPoint}: ${error.message}`);
    }
    if (code === 0) return response;
    if (code === ERROR_ALREADY_REPORTED) return response.setBail(true);
    if (program.stopped) return response.setError(`the program ${entryPoint} was cancelled`);
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const hint = outOfMemory
      ? ": node ran out of memory; raise it with Pulumi.yaml runtime.options.nodeargs: --max-old-space-size=<MiB>"
      : " (see its output above)";
    return response.setError(`the program ${path.join(programDir, entryPoint)} ${how}${hint}`);
  }

  async about(req: langPb.AboutRequest) {
    const response = new this.sdk.lang.AboutResponse().setExecutable(process.execPath).setVersion(process.version);
    const metadata = response.getMetadataMap().set("packagemanager", "npm");
    const npmVersion = await new Promise<string>((resolve) =>
      execFile("npm", ["--version"], (err, stdout) => resolve(err ? "" : stdout.trim())),
    );
    if (npmVersion) metadata.set("packagemanagerVersion", npmVersion);
    try {
      const programDir = req.getInfo()?.getProgramDirectory() || process.cwd();
      const programRequire = createRequire(path.join(programDir, "pulumi-language-nodejs"));
      metadata.set("typescriptVersion", programRequire("typescript/package.json").version);
    } catch {
      // No TypeScript in the program: nothing to report.
    }
    return response;
  }

  getProgramDependencies(req: langPb.GetProgramDependenciesRequest) {
    const dir = req.getInfo()?.getProgramDirectory() || req.getPwd();
    const dependencies = programDependencies(dir, req.getTransitivedependencies());
    return new this.sdk.lang.GetProgramDependenciesResponse().setDependenciesList(
      dependencies.map(({ name, version }) => new this.sdk.lang.DependencyInfo().setName(name).setVersion(version)),
    );
  }

  /** `npm ci` where a lock file pins the dependencies, else `npm install`; output streamed to the CLI. */
  installDependencies(call: InstallCall): void {
    const start = call.request.getInfo()?.getProgramDirectory() || call.request.getDirectory();
    const send = (stdout: Uint8Array, stderr: Uint8Array = new Uint8Array()) =>
      call.write(new this.sdk.lang.InstallDependenciesResponse().setStdout(stdout).setStderr(stderr));
    // grpc-js ends a server stream with this status when "error" is emitted on it.
    const failWith = (details: string) => call.emit("error", { code: this.sdk.grpc.status.UNKNOWN, details });
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
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        failWith(`npm ${npmArgs[0]} in ${projectDir} ${how} (see its output above)`);
      }
    });
  }

  /** Attach mode: the engine tells a host it did not start where it is. */
  handshake(req: langPb.LanguageHandshakeRequest) {
    this.attach(req.getEngineAddress());
    return new this.sdk.lang.LanguageHandshakeResponse();
  }

  async cancel() {
    await this.stopPrograms();
    return new this.sdk.empty.Empty();
  }

  /** Like the official host: an engine that no longer answers means the CLI is gone. */
  private attach(address: string): void {
    this.engineAddress = address;
    this.stopWatch?.();
    this.stopWatch = watchEngine(this.sdk.grpc, address, (why) => void this.shutDown(why));
  }

  private stopPrograms() {
    return Promise.all([...this.programs].map((p) => p.stop()));
  }

  /** `@pulumi/pulumi/cmd/run`'s command line: the run request's flags, then the entry point and its args. */
  private runArguments(req: langPb.RunRequest, runScript: string, entryPoint: string): string[] {
    const info = req.getInfo();
    const flags: [string, string | undefined][] = [
      ["--monitor", req.getMonitorAddress()],
      ["--engine", this.engineAddress],
      ["--organization", req.getOrganization()],
      ["--project", req.getProject()],
      ["--root-directory", info?.getRootDirectory()],
      ["--stack", req.getStack()],
      ["--pwd", info?.getProgramDirectory() || req.getPwd()],
    ];
    const args = [runScript, ...flags.filter(([, v]) => v).flatMap(([k, v]) => [k, v as string])];
    if (req.getDryrun()) args.push("--dry-run");
    args.push("--parallel", String(req.getParallel()));
    if (this.flags.tracing) args.push("--tracing", this.flags.tracing);
    return [...args, entryPoint, ...req.getArgsList()];
  }

  private programEnvironment(req: langPb.RunRequest, options: RuntimeOptions): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PULUMI_CONFIG: programConfig(req.getConfigMap().toObject()),
      PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
      // Pulumi.yaml decides, not an inherited environment.
      PULUMI_NODEJS_TYPESCRIPT: String(options.typescript),
    };
    if (options.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
    return env;
  }

  /** Asks the engine to attach a debugger to a program started with --inspect-brk. */
  private startDebugging(child: ChildProcess, port: number): Promise<void> {
    const { engine, engineGrpc, grpc: g, struct } = this.sdk;
    return new Promise((resolve, reject) => {
      if (!this.engineAddress) return reject(new Error("no engine address to ask for a debugger"));
      const client = new engineGrpc.EngineClient(this.engineAddress, g.credentials.createInsecure());
      const request = new engine.StartDebuggingRequest();
      request.setConfig(
        struct.Struct.fromJavaScript({
          name: "Pulumi: Program (nodejs)",
          type: "node",
          request: "attach",
          processId: child.pid ?? 0,
          continueOnAttach: true,
          skipFiles: ["<node_internals>/**"],
          port,
        }),
      );
      request.setMessage(`on process id ${child.pid} and port ${port}`);
      client.startDebugging(request, (err) => {
        client.close();
        if (err) reject(new Error(`unable to start debugging: ${err.details}`));
        else resolve();
      });
    });
  }

  /** Turns a handler's exception into a gRPC error that names it, instead of an unanswered call. */
  private unary<Req, Res>(
    name: string,
    handle: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => handle(call.request, call))
        .then(
          (res) => callback(null, res),
          (err: Error) => callback({ code: this.sdk.grpc.status.UNKNOWN, details: `${name}: ${err.message}` }),
        );
    };
  }
}
