// The project's nodejs language host (plugins/language-host/) under the real Pulumi CLI: plain `pulumi`
// commands in a project directory, as a user types them. The CLI and the host go in a temporary bin
// directory of their own (the CLI hard-linked, the host installed beside it by scripts/install-language-host),
// so the test neither needs nor touches an installed host.

import * as assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { PULUMI_ROOT } from "../../cli/workspace";
import { PROJECT_DIR } from "../../config/paths";

const STACK = "lhtest";
const SECRET = "lhtest-s3cr3t-value";

const TS_PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { spawn } from "child_process";
import * as fs from "fs";

class Greeting extends pulumi.ComponentResource {
  public readonly text: pulumi.Output<string>;
  constructor(name: string, greeting: string, opts?: pulumi.ComponentResourceOptions) {
    super("lhtest:index:Greeting", name, {}, opts);
    new pulumi.ComponentResource("lhtest:index:Part", \`\${name}-part\`, {}, { parent: this });
    this.text = pulumi.output(\`\${greeting}, world\`);
    this.registerOutputs({ text: this.text });
  }
}

const mode = process.env.LHTEST_MODE ?? "ok";
if (mode === "throw") {
  throw new Error("lhtest thrown on purpose");
}
if (mode === "reject") {
  Promise.reject(new Error("lhtest rejected on purpose"));
}
const config = new pulumi.Config();
const greeting = new Greeting("greeting", config.require("greeting"));
export const text = greeting.text;
export const token = config.requireSecret("token");
export const tokenIsSecret: boolean = JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS ?? "[]").includes("lhtest:token");
// A type error: this runs only because tsconfig.lhtest.json (runtime.options.tsconfig) says noCheck.
export const unchecked: number = "type-checking is off";
export const stack = pulumi.getStack();
if (mode === "hang") {
  // A grandchild too: cancelling must stop the program's whole process group.
  const sleeper = spawn("sleep", ["600"], { stdio: "ignore" });
  fs.writeFileSync(process.env.LHTEST_PIDS!, \`\${process.pid} \${sleeper.pid}\\n\`);
}
export const done = mode === "hang" ? new Promise((resolve) => setTimeout(resolve, 600_000)) : "now";
`;

/** A TypeScript project: Pulumi.yaml names its tsconfig, whose noCheck spares the tests ts-node's type-checking. */
const TS_PROJECT = {
  "Pulumi.yaml": "name: lhtest\nruntime:\n  name: nodejs\n  options:\n    tsconfig: tsconfig.lhtest.json\n",
  "tsconfig.lhtest.json": JSON.stringify({
    compilerOptions: { noCheck: true, strict: true, target: "ES2022", module: "commonjs", moduleResolution: "node10" },
  }),
  "package.json": JSON.stringify({ name: "lhtest", main: "index.ts", dependencies: { "@pulumi/pulumi": "*" } }),
  "index.ts": TS_PROGRAM,
};

const JS_PROGRAM = `"use strict";
const pulumi = require("@pulumi/pulumi");
const part = new pulumi.ComponentResource("lhtest:index:Part", "js-part", {});
if (process.env.LHTEST_MODE === "throw") {
  throw new Error("lhtest thrown from js on purpose");
}
exports.urn = part.urn;
exports.nodeArgs = process.execArgv.join(" ");
`;

interface Project {
  dir: string;
  /** Runs the CLI in the project; `expect` is the exit status the command must end with. */
  pulumi(args: string[], opts?: { mode?: string; expect?: number }): { stdout: string; stderr: string; output: string };
  env(mode?: string): NodeJS.ProcessEnv;
}

let root: string;
let bin: string;

/**
 * A project directory with its own state and PULUMI_HOME, the worktree's node_modules linked into it
 * (or into `modulesIn`, a directory above it, where npm run in the project cannot touch them).
 */
function project(name: string, files: Record<string, string>, modulesIn = name): Project {
  const dir = path.join(root, name);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(root, modulesIn, "node_modules"));
  const env = (mode = "ok"): NodeJS.ProcessEnv => ({
    // No PATH entry that may hold another pulumi-language-nodejs: the CLI must use the one beside it.
    // npm's own directory, though, as a user's shell has it (a Node.js installed as an npm package runs
    // from a directory of its own, with npm beside its link, e.g. /usr/local/bin).
    PATH: `${path.dirname(process.execPath)}:${npmDir}:/usr/bin:/bin`,
    HOME: root,
    PULUMI_HOME: path.join(dir, ".home"),
    PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}`,
    PULUMI_CONFIG_PASSPHRASE: "lhtest",
    PULUMI_SKIP_UPDATE_CHECK: "1",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "1",
    PULUMI_IGNORE_AMBIENT_PLUGINS: "1",
    LHTEST_MODE: mode,
    LHTEST_PIDS: path.join(dir, "pids"),
  });
  fs.mkdirSync(path.join(dir, ".state"));
  const pulumi: Project["pulumi"] = (args, opts = {}) => {
    const result = spawnSync(path.join(bin, "pulumi"), [...args, "--non-interactive", "--color", "never"], {
      cwd: dir,
      env: env(opts.mode),
      encoding: "utf8",
      timeout: 180_000,
    });
    const output = `${result.stdout}${result.stderr}`;
    assert.equal(result.status, opts.expect ?? 0, `pulumi ${args.join(" ")} in ${dir}:\n${output}`);
    return { stdout: result.stdout, stderr: result.stderr, output };
  };
  pulumi(["stack", "init", STACK]);
  return { dir, pulumi, env };
}

/** The directory of the npm a user's shell would run, for the host's `pulumi install`. */
const npmDir = path.dirname(spawnSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).stdout.trim());

const occurrences = (text: string, part: string) => text.split(part).length - 1;

/** Processes (any) whose command line names the test's directory: hosts, programs, CLIs. */
function processesOf(dir: string): string[] {
  return spawnSync("pgrep", ["-af", dir], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
}

/** Running, not merely a zombie its new parent has yet to reap (which here can take seconds). */
const alive = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1][0] !== "Z";
  } catch {
    return false;
  }
};

before(() => {
  const cli = path.join(PULUMI_ROOT, "bin", "pulumi");
  assert.ok(fs.existsSync(cli), `the Pulumi CLI is not built (${cli}): run scripts/setup first`);
  const host = path.join(PROJECT_DIR, "dist", "plugins", "language-host", "main.js");
  assert.ok(fs.existsSync(host), `the language host is not compiled (${host}): run npx tsc -p . first`);
  root = fs.mkdtempSync(path.join(os.tmpdir(), "enos-lhtest-"));
  bin = path.join(root, "bin");
  fs.mkdirSync(bin);
  // The CLI finds its language host beside its own binary, symlinks resolved: a hard link (or a copy) is needed.
  try {
    fs.linkSync(cli, path.join(bin, "pulumi"));
  } catch {
    fs.copyFileSync(cli, path.join(bin, "pulumi"));
  }
  const install = spawnSync(path.join(PROJECT_DIR, "scripts", "install-language-host"), [bin], { encoding: "utf8" });
  assert.equal(install.status, 0, `install-language-host:\n${install.stdout}${install.stderr}`);
});

after(() => {
  for (const line of processesOf(root)) process.kill(Number(line.split(" ")[0]), "SIGKILL");
  // What a cancelled program started does not name the directory: its pids were written down.
  const pidFiles = fs
    .readdirSync(root)
    .map((dir) => path.join(root, dir, "pids"))
    .filter((f) => fs.existsSync(f));
  for (const pid of pidFiles.flatMap((f) => fs.readFileSync(f, "utf8").trim().split(" ").map(Number))) {
    if (alive(pid)) process.kill(pid, "SIGKILL");
  }
  fs.rmSync(root, { recursive: true, force: true });
});

describe("nodejs language host", () => {
  it("runs a TypeScript project through preview, up, re-up, refresh, stack output and destroy", () => {
    const ts = project("ts", TS_PROJECT);
    ts.pulumi(["config", "set", "greeting", "hello"]);
    ts.pulumi(["config", "set", "--secret", "token", SECRET]);

    const preview = ts.pulumi(["preview"]);
    assert.match(preview.stdout, /\+ 3 to create/, preview.output);
    const up = ts.pulumi(["up", "--yes", "--skip-preview"]);
    assert.match(up.stdout, /3 created/, up.output);
    assert.ok(!up.output.includes(SECRET), "the secret config value is printed by up");
    const reUp = ts.pulumi(["up", "--yes", "--expect-no-changes"]);
    assert.match(reUp.stdout, /3 unchanged/, reUp.output);
    ts.pulumi(["refresh", "--yes", "--expect-no-changes"]);

    const outputs = JSON.parse(ts.pulumi(["stack", "output", "--json"]).stdout);
    assert.deepEqual(outputs, {
      done: "now",
      stack: STACK,
      text: "hello, world",
      token: "[secret]",
      tokenIsSecret: true,
      unchecked: "type-checking is off",
    });
    const shown = JSON.parse(ts.pulumi(["stack", "output", "--json", "--show-secrets"]).stdout);
    assert.equal(shown.token, SECRET);
    const state = fs.readFileSync(path.join(ts.dir, ".state", ".pulumi", "stacks", "lhtest", `${STACK}.json`), "utf8");
    assert.ok(!state.includes(SECRET), "the secret output is stored in plain text");

    const destroy = ts.pulumi(["destroy", "--yes"]);
    assert.match(destroy.stdout, /3 deleted/, destroy.output);
    const exported = JSON.parse(ts.pulumi(["stack", "export"]).stdout);
    assert.deepEqual(exported.deployment.resources ?? [], []);
    assert.deepEqual(processesOf(ts.dir), []);
    assert.deepEqual(processesOf(bin), [], "a language host is left running");
  });

  it("reports a thrown error and an unhandled rejection once each, at their line of the .ts main", () => {
    const ts = project("ts-errors", TS_PROJECT);
    ts.pulumi(["config", "set", "greeting", "hello"]);
    ts.pulumi(["config", "set", "--secret", "token", SECRET]);
    const lines = TS_PROGRAM.split("\n");
    for (const [mode, message, statement] of [
      ["throw", "lhtest thrown on purpose", "throw new Error"],
      ["reject", "lhtest rejected on purpose", "Promise.reject"],
    ]) {
      const { output } = ts.pulumi(["preview"], { mode, expect: 1 });
      const line = lines.findIndex((l) => l.includes(statement)) + 1;
      assert.equal(occurrences(output, message), 1, `${mode}: the error is not reported exactly once:\n${output}`);
      assert.ok(output.includes(`index.ts:${line}:`), `${mode}: no index.ts:${line} in the report:\n${output}`);
      assert.ok(
        !/exited with code|non-zero exit code/.test(output),
        `${mode}: the host added its own error:\n${output}`,
      );
    }
  });

  it("runs main: dist/index.js with typescript: false and nodeargs", () => {
    const js = project("js", {
      "Pulumi.yaml":
        "name: lhtest\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n    nodeargs: --max-old-space-size=400 --no-deprecation\nmain: dist/index.js\n",
      "package.json": JSON.stringify({
        name: "lhtest-js",
        main: "dist/index.js",
        dependencies: { "@pulumi/pulumi": "*" },
      }),
      "dist/index.js": JS_PROGRAM,
    });
    const up = js.pulumi(["up", "--yes"]);
    assert.match(up.stdout, /2 created/, up.output);
    const outputs = JSON.parse(js.pulumi(["stack", "output", "--json"]).stdout);
    // nodeargs first, then the host's own preload (plugins/language-host/preload.ts).
    const preload = path.join(bin, "pulumi-language-nodejs.d", "language-host", "preload.js");
    assert.equal(outputs.nodeArgs, `--max-old-space-size=400 --no-deprecation --require ${preload}`);
    assert.match(outputs.urn, /lhtest:index:Part::js-part$/);

    const { output } = js.pulumi(["preview"], { mode: "throw", expect: 1 });
    assert.equal(occurrences(output, "lhtest thrown from js on purpose"), 1, output);
    const line = JS_PROGRAM.split("\n").findIndex((l) => l.includes("throw new Error")) + 1;
    assert.ok(output.includes(`${path.join("dist", "index.js")}:${line}:`), `no dist/index.js:${line} in:\n${output}`);
    js.pulumi(["destroy", "--yes"]);
  });

  it("builds a project like this one before each run: an edit shows in the next preview, a type error fails it", () => {
    // This project's own Pulumi.yaml and tsconfig.json (incremental, into dist/), with a program of two files.
    const ours = (file: string) => fs.readFileSync(path.join(PROJECT_DIR, file), "utf8");
    const built = project("built", {
      "Pulumi.yaml": ours("Pulumi.yaml").replace(/^name: .*/m, "name: lhtest"),
      "tsconfig.json": JSON.stringify({ ...JSON.parse(ours("tsconfig.json")), include: ["index.ts", "greeting.ts"] }),
      "package.json": JSON.stringify({ name: "lhtest-built", dependencies: { "@pulumi/pulumi": "*" } }),
      "greeting.ts": 'export const greeting: string = "hello";\n',
      "index.ts": 'import { greeting } from "./greeting";\nexport const text = greeting;\n',
    });
    built.pulumi(["up", "--yes"]);
    assert.deepEqual(JSON.parse(built.pulumi(["stack", "output", "--json"]).stdout), { text: "hello" });

    // Nothing changed: nothing is compiled again.
    const emitted = [path.join(built.dir, "dist", "index.js"), path.join(built.dir, "dist", "greeting.js")];
    const written = () => emitted.map((f) => fs.statSync(f).mtimeMs);
    const before = written();
    built.pulumi(["preview", "--expect-no-changes"]);
    assert.deepEqual(written(), before, "an unchanged program was compiled again");
    // An output deleted behind the build's back is made again.
    fs.rmSync(emitted[0]);
    built.pulumi(["preview", "--expect-no-changes"]);

    fs.writeFileSync(path.join(built.dir, "greeting.ts"), 'export const greeting: string = "bonjour";\n');
    fs.appendFileSync(path.join(built.dir, "index.ts"), "export const added = greeting.length;\n");
    const edited = built.pulumi(["preview"]);
    assert.match(edited.stdout, /\+ added\s*: 7/, edited.output);
    assert.match(edited.stdout, /~ text\s*: "hello" => "bonjour"/, edited.output);

    fs.appendFileSync(path.join(built.dir, "greeting.ts"), 'export const count: number = "three";\n');
    const broken = built.pulumi(["preview"], { expect: 1 });
    const typeError = /greeting\.ts:2:14 - error TS2322: Type 'string' is not assignable to type 'number'/;
    assert.match(broken.output, typeError, broken.output);
    assert.match(broken.output, /the program does not compile \(tsc --build tsconfig\.json\)/, broken.output);
  });

  it("installs dependencies with npm install, then npm ci once there is a lock file", () => {
    // No dependencies: npm has nothing to download, and the SDK the host needs comes from a directory above.
    fs.mkdirSync(path.join(root, "install"));
    const app = project(
      path.join("install", "app"),
      {
        "Pulumi.yaml": "name: lhtest\nruntime: nodejs\n",
        "package.json": JSON.stringify({ name: "lhtest-install", version: "1.0.0", dependencies: {} }),
      },
      "install",
    );
    const first = app.pulumi(["install"]);
    assert.match(first.output, /npm install in .*install\/app/, first.output);
    assert.match(first.output, /Finished installing dependencies/, first.output);
    assert.ok(fs.existsSync(path.join(app.dir, "package-lock.json")), "npm install wrote no package-lock.json");
    const second = app.pulumi(["install"]);
    assert.match(second.output, /npm ci in .*install\/app/, second.output);

    // A dependency the lock file lacks: npm ci refuses before fetching anything.
    fs.writeFileSync(
      path.join(app.dir, "package.json"),
      JSON.stringify({
        name: "lhtest-install",
        version: "1.0.0",
        dependencies: { "lhtest-missing": "file:./missing" },
      }),
    );
    const broken = app.pulumi(["install"], { expect: 1 });
    assert.match(broken.output, /package\.json and package-lock\.json .* in sync/, broken.output);
    assert.match(broken.output, /npm ci in \S+install\/app exited with code 1 \(see its output above\)/, broken.output);
  });

  it("stops the program and everything it started on Ctrl-C", async () => {
    const ts = project("ts-cancel", TS_PROJECT);
    ts.pulumi(["config", "set", "greeting", "hello"]);
    ts.pulumi(["config", "set", "--secret", "token", SECRET]);
    const cli: ChildProcess = spawn(path.join(bin, "pulumi"), ["up", "--yes", "--skip-preview", "--non-interactive"], {
      cwd: ts.dir,
      env: ts.env("hang"),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    cli.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    cli.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => cli.once("close", (code) => resolve(code)));
    const pidsFile = path.join(ts.dir, "pids");
    for (let waited = 0; !fs.existsSync(pidsFile); waited += 200) {
      assert.ok(waited < 90_000 && cli.exitCode === null, `the program never started:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const pids = fs.readFileSync(pidsFile, "utf8").trim().split(" ").map(Number);
    assert.ok(pids.every(alive), "the program's processes are not running");

    const started = Date.now();
    cli.kill("SIGINT");
    const timeout = setTimeout(() => cli.kill("SIGKILL"), 60_000);
    const code = await exited;
    clearTimeout(timeout);
    assert.notEqual(code, null, `the CLI did not stop on Ctrl-C within 60 s:\n${output}`);
    assert.notEqual(code, 0, output);
    assert.ok(Date.now() - started < 15_000, `cancelling took ${Date.now() - started} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const left = pids.filter(alive);
    assert.deepEqual(
      left,
      [],
      `program processes left running:\n${left.length ? spawnSync("ps", ["-o", "pid,pgid,args", "-p", left.join(",")], { encoding: "utf8" }).stdout : ""}\n${output}`,
    );
    assert.deepEqual(processesOf(ts.dir), []);
    assert.deepEqual(processesOf(bin), [], "a language host is left running");
  });
});
