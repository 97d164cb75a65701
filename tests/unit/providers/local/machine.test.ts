import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import { boundingSetIsPartial, daemonJson, INNER_ENGINE, initCommand } from "../../../../providers/local/machine";
import { localNames } from "../../../../providers/local/plan";

describe("machine hosts", () => {
  test("the runc wrapper is needed only where the bounding set lacks a capability the kernel knows", () => {
    const status = (mask: string) => `Name:\tnode\nCapPrm:\t000001ffffffffff\nCapBnd:\t${mask}\nCapAmb:\t0\n`;
    assert.equal(boundingSetIsPartial(status("000001ffffffffff"), 40), false);
    // This kind of VM: CAP_SYS_RESOURCE (24) is missing.
    assert.equal(boundingSetIsPartial(status("000001fffeffffff"), 40), true);
    assert.equal(boundingSetIsPartial(status("0000003fffffffff"), 37), false, "an older kernel knows fewer");
  });

  test("daemon.json: the engine's settings, with the wrapper as default runtime only when given", () => {
    assert.deepEqual(JSON.parse(daemonJson(INNER_ENGINE, undefined)), {
      iptables: false,
      "ip-forward": false,
      "ip-masq": false,
      bridge: "none",
    });
    assert.deepEqual(JSON.parse(daemonJson({}, "/w/runc-fit")), {
      "default-runtime": "fit",
      runtimes: { fit: { path: "/w/runc-fit" } },
    });
  });

  test("PID 1 makes /proc/sys read-only but for net and mounts shared (Kolla mounts /run shared), then execs systemd; v1 machines keep systemd to v1", () => {
    const [shell, flag, script, argv0, ...args] = initCommand(false);
    assert.deepEqual([shell, flag, argv0], ["sh", "-c", "init"]);
    assert.match(
      script,
      /remount,bind,ro \/proc\/sys && .*remount,bind,rw \/proc\/sys\/net && mount --make-rshared \/ && exec \/sbin\/init "\$@"$/,
    );
    assert.deepEqual(args, ["systemd.unified_cgroup_hierarchy=0", "systemd.legacy_systemd_cgroup_controller=1"]);
    assert.deepEqual(initCommand(true).slice(4), []);
  });

  test("the engine's socket directory and cgroup parent are short and the stack's own", () => {
    const names = localNames("a-rather-long-stack-name-for-a-socket-path");
    assert.match(names.engineRunDir, /^\/run\/enos-[0-9a-f]{5}$/);
    assert.equal(names.cgroupParent, names.engineRunDir.replace("/run/", ""));
    assert.notEqual(localNames("other").engineRunDir, names.engineRunDir);
  });
});
