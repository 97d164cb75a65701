import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { PROJECT_DIR } from "../../config/paths";

/**
 * scripts/fresh-machine-runc, the runtime scripts/fresh-machine-test's dockerd uses where the bounding
 * set lacks capabilities: what it hands runc (here a `runc` that prints its arguments) for a container's
 * bundle and for an exec's process file, against this process's own bounding set and hard limits.
 */
describe("fresh-machine-runc: a privileged container's spec fitted to the machine", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-fit-runc-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, "bin"));
  fs.writeFileSync(path.join(dir, "bin", "runc"), '#!/bin/sh\necho "runc $*"\n', { mode: 0o755 });
  const wrapper = (args: string[]) =>
    execFileSync(path.join(PROJECT_DIR, "scripts", "fresh-machine-runc"), args, {
      env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}` },
      encoding: "utf8",
    });
  const status = fs.readFileSync("/proc/self/status", "utf8");
  const bounding = BigInt(`0x${/^CapBnd:\s*(\S+)/m.exec(status)![1]}`);
  // Every capability the kernel knows, as Docker 20.10 gives a privileged container.
  const all = ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_BPF"];
  const bits: Record<string, bigint> = {
    CAP_CHOWN: 0n,
    CAP_NET_ADMIN: 12n,
    CAP_SYS_ADMIN: 21n,
    CAP_SYS_RESOURCE: 24n,
    CAP_BPF: 39n,
  };
  const kept = all.filter((cap) => (bounding >> bits[cap]) & 1n);
  const hardNofile = Number(execFileSync("bash", ["-c", "ulimit -Hn"], { encoding: "utf8" }).trim());

  test("create: capabilities outside the bounding set, rlimits above the hard limit left out; same arguments", () => {
    const bundle = path.join(dir, "bundle");
    fs.mkdirSync(bundle);
    fs.writeFileSync(
      path.join(bundle, "config.json"),
      JSON.stringify({
        ociVersion: "1.0.2",
        process: {
          capabilities: { bounding: all, effective: all },
          rlimits: [{ type: "RLIMIT_NOFILE", hard: hardNofile * 4, soft: hardNofile * 4 }],
        },
      }),
    );
    const args = ["--root", "/run/x", "create", "--bundle", bundle, "--pid-file", "p", "id1"];
    assert.equal(wrapper(args).trim(), `runc ${args.join(" ")}`);
    const spec = JSON.parse(fs.readFileSync(path.join(bundle, "config.json"), "utf8"));
    assert.deepEqual(spec.process.capabilities, { bounding: kept, effective: kept });
    assert.deepEqual(spec.process.rlimits, [{ type: "RLIMIT_NOFILE", hard: hardNofile, soft: hardNofile }]);
    assert.equal(spec.ociVersion, "1.0.2");
  });

  test("exec --process: the process file is fitted the same way", () => {
    const file = path.join(dir, "process.json");
    fs.writeFileSync(file, JSON.stringify({ args: ["bash"], capabilities: { permitted: all } }));
    wrapper(["exec", "--process", file, "id1"]);
    assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), { args: ["bash"], capabilities: { permitted: kept } });
  });

  test("other commands reach runc untouched", () => {
    assert.equal(wrapper(["state", "id1"]).trim(), "runc state id1");
  });
});
