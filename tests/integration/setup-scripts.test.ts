import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { PROJECT_DIR } from "../../config/paths";

/**
 * scripts/build-pulumi and scripts/go-toolchain on machines unlike this one: a PATH holding only the
 * tools they use, plus a fake `go` (a Go too old for the Pulumi modules, or one whose go.mod parse
 * fails) or a fake `pulumi` (a release at or above the pinned one). Nothing is downloaded or built.
 */
describe("setup's Go and Pulumi CLI steps", { timeout: 60_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-setup-scripts-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tools = path.join(dir, "tools");
  fs.mkdirSync(tools);
  // python3 by its interpreter's path (a pyenv shim needs more tools than these).
  const output = (command: string, args: string[]) => execFileSync(command, args, { encoding: "utf8" }).trim();
  fs.symlinkSync(output("python3", ["-c", "import sys; print(sys.executable)"]), path.join(tools, "python3"));
  for (const tool of [
    "bash",
    "env",
    "sed",
    "sort",
    "grep",
    "cut",
    "paste",
    "dirname",
    "readlink",
    "mktemp",
    "rm",
    "mkdir",
    "ln",
    "cat",
    "cp",
    "find",
    "chmod",
    "xargs",
  ]) {
    fs.symlinkSync(output("bash", ["-c", `command -v ${tool}`]), path.join(tools, tool));
  }
  const read = (...parts: string[]) => fs.readFileSync(path.join(PROJECT_DIR, ...parts), "utf8");
  const pinned: string = JSON.parse(read("package.json")).enos.pulumiCli;
  const goWanted = /-go([0-9.]+)\./.exec(read("scripts", "go-toolchain.sum"))![1];
  const goPattern = goWanted.replace(/\./g, "\\.");

  /** A directory holding one fake command NAME, a shell script BODY. */
  const fake = (name: string, body: string): string => {
    const bin = fs.mkdtempSync(path.join(dir, `${name}-`));
    fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    return bin;
  };
  const buildPulumi = (binDirs: string[]) => {
    const out = fs.mkdtempSync(path.join(dir, "out-"));
    const result = spawnSync(path.join(PROJECT_DIR, "scripts", "build-pulumi"), [pinned, out], {
      env: { PATH: [...binDirs, tools].join(":"), HOME: dir },
      encoding: "utf8",
    });
    return { code: result.status, out: result.stdout, err: result.stderr, cli: path.join(out, "pulumi") };
  };
  // Debian 12's golang-go, with a module proxy that refuses the toolchain.
  const oldGo = fake(
    "go",
    `case "$1 $2" in
  "version "*) echo "go version go1.19.8 linux/amd64" ;;
  "env GOOS") echo linux ;; "env GOARCH") echo amd64 ;; "env GOMODCACHE") echo ${dir}/modcache ;;
  "env GOPROXY") echo https://proxy.golang.org,direct ;;
  "mod download") echo "go: $3: reading https://proxy.golang.org/...: 403 Forbidden" >&2; exit 1 ;;
  *) echo "go: unexpected: $*" >&2; exit 2 ;;
esac`,
  );

  test("a Go older than the modules need, which cannot fetch a newer one: one line saying what is needed", () => {
    const run = buildPulumi([oldGo]);
    assert.equal(run.code, 1);
    assert.equal(run.err.trim().split("\n").length, 1, run.err);
    assert.match(
      run.err,
      new RegExp(
        `^go-toolchain: needs Go >= ${goPattern}: go1\\.19\\.8 \\(on PATH\\) ` +
          `could not fetch golang\\.org/toolchain@v0\\.0\\.1-go${goPattern}\\.linux-amd64 from GOPROXY=.*403 Forbidden`,
      ),
    );
    assert.equal(fs.existsSync(run.cli), false);
  });

  test("no Go at all: one line naming the package that fetches one", () => {
    const run = buildPulumi([]);
    assert.equal(run.code, 1);
    assert.equal(
      run.err.trim(),
      `go-toolchain: needs Go >= ${goWanted}: no go on PATH (install Debian's golang-go: it fetches Go ${goWanted})`,
    );
  });

  test("a go.mod the Go cannot parse: go's own error, no Python traceback", () => {
    const newGo = fake(
      "go",
      `case "$1 $2" in
  "version "*) echo "go version go${goWanted} linux/amd64" ;;
  "mod download") echo '{"Path": "github.com/pulumi/pulumi/pkg/v3", "Dir": "${dir}/pkg"}' ;;
  "mod init") ;;
  "mod edit") echo "go: errors parsing ${dir}/pkg/go.mod: invalid go version '9.9.9'" >&2; exit 1 ;;
  *) echo "go: unexpected: $*" >&2; exit 2 ;;
esac`,
    );
    const run = buildPulumi([newGo]);
    assert.equal(run.code, 1, run.err);
    assert.match(run.err, /invalid go version '9\.9\.9'/);
    assert.doesNotMatch(run.err, /Traceback|JSONDecodeError/);
  });

  test("a Pulumi CLI on PATH at or above the pinned version is used, not built (no Go needed)", () => {
    const [major, minor] = pinned.split(".");
    const newer = `v${major}.${Number(minor) + 1}.0`;
    const official = fake("pulumi", `[ "$1" = version ] && echo ${newer}`);
    const run = buildPulumi([official]);
    assert.equal(run.code, 0, run.err);
    assert.equal(run.out.trim(), `using ${official}/pulumi (${newer}, on PATH)`);
    assert.equal(fs.readlinkSync(run.cli), path.join(official, "pulumi"));
  });

  test("an older Pulumi CLI on PATH is not used: the build goes on (here to its Go check)", () => {
    const older = fake("pulumi", '[ "$1" = version ] && echo v3.100.0');
    const run = buildPulumi([older, oldGo]);
    assert.equal(run.code, 1);
    assert.match(run.err, /^go-toolchain: needs Go >= /);
    assert.equal(fs.existsSync(run.cli), false);
  });
});
