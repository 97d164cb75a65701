import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { planSlots } from "../../../../config/slots";
import { vagrantDestroy, vagrantUp } from "../../../../providers/vagrant/machines";
import { parseSshConfig, planMachines, renderVagrantfile } from "../../../../providers/vagrant/render";

const demands = [
  { bucket: "medium", role: "control", count: 1 },
  { bucket: "tiny", role: "network", count: 1 },
  { bucket: "extra-large", role: "compute", count: 2 },
];
const machines = planMachines(planSlots(demands));

/** `vagrant validate` of Debian's vagrant (and vagrant-libvirt) on a Vagrantfile in a directory of its own. */
function validate(vagrantfile: string): { ok: boolean; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tbvag-"));
  try {
    fs.writeFileSync(path.join(dir, "Vagrantfile"), vagrantfile);
    const run = spawnSync("vagrant", ["validate"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, VAGRANT_CWD: dir, VAGRANT_HOME: path.join(dir, ".vagrant.d") },
    });
    return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("vagrant testbed", () => {
  test("sizes give cpus and memory; hosts .10 onwards on both private networks", () => {
    assert.deepEqual(
      machines.map((m) => [m.alias, m.cpus, m.memory, m.apiIp, m.externalIp]),
      [
        ["control-1", 2, 2048, "192.168.142.10", "192.168.143.10"],
        ["network-1", 1, 512, "192.168.142.11", "192.168.143.11"],
        ["compute-1", 6, 6144, "192.168.142.12", "192.168.143.12"],
        ["compute-2", 6, 6144, "192.168.142.13", "192.168.143.13"],
      ],
    );
  });

  for (const backend of ["virtualbox", "libvirt"] as const) {
    test(`the Vagrantfile for ${backend} passes vagrant validate`, () => {
      const file = renderVagrantfile(machines, "debian/bookworm64", backend, "root");
      assert.match(
        file,
        new RegExp(`host.vm.provider "${backend}" do \\|vm\\|\\n      vm.cpus = 6\\n      vm.memory = 6144`),
      );
      assert.equal(file.match(/private_network/g)?.length, 8, "two private networks per machine");
      const result = validate(file);
      assert.ok(result.ok, result.output);
    });
  }

  test("vagrant validate does catch a wrong provider option (the check above can fail)", () => {
    const result = validate(
      renderVagrantfile(machines, "debian/bookworm64", "libvirt", "root").replace("vm.cpus", "vm.cpuz"),
    );
    assert.ok(!result.ok);
    assert.match(result.output, /cpuz/);
  });

  test("vagrant ssh-config: each machine's key", () => {
    const output =
      "Host control-1\n  HostName 192.168.121.5\n  User vagrant\n  Port 22\n  IdentityFile /s/.vagrant/machines/control-1/libvirt/private_key\n  IdentitiesOnly yes\n\n" +
      'Host network-1\n  HostName 127.0.0.1\n  Port 2200\n  IdentityFile "/s p/.vagrant/machines/network-1/virtualbox/private_key"\n';
    assert.deepEqual(parseSshConfig(output), {
      "control-1": "/s/.vagrant/machines/control-1/libvirt/private_key",
      "network-1": "/s p/.vagrant/machines/network-1/virtualbox/private_key",
    });
  });

  describe("calls, recorded by a stub vagrant on PATH", () => {
    let bin: string;
    let log: string;
    let savedPath: string | undefined;
    before(() => {
      bin = fs.mkdtempSync(path.join(os.tmpdir(), "tbvag-bin-"));
      log = path.join(bin, "calls.log");
      // Records "<cwd> <args>"; ssh-config answers for every machine the Vagrantfile in cwd defines.
      fs.writeFileSync(
        path.join(bin, "vagrant"),
        [
          "#!/bin/bash",
          `echo "$PWD $*" >> ${log}`,
          'if [ "$1" = ssh-config ]; then',
          '  for m in $(sed -n \'s/^  config.vm.define "\\([^"]*\\)".*/\\1/p\' Vagrantfile); do',
          '    printf "Host %s\\n  HostName 127.0.0.1\\n  IdentityFile %s/.vagrant/machines/%s/libvirt/private_key\\n\\n" "$m" "$PWD" "$m"',
          "  done",
          "fi",
        ].join("\n"),
        { mode: 0o755 },
      );
      savedPath = process.env.PATH;
      process.env.PATH = `${bin}:${savedPath}`;
    });
    after(() => {
      process.env.PATH = savedPath;
      fs.rmSync(bin, { recursive: true, force: true });
    });

    test("up writes the Vagrantfile and brings the machines up; an update destroys the removed ones first; destroy removes all", async () => {
      const dir = path.join(bin, "stack", "vagrant");
      const names = machines.map((m) => m.alias);
      const inputs = {
        dir,
        backend: "libvirt" as const,
        names,
        vagrantfile: renderVagrantfile(machines, "debian/bookworm64", "libvirt", "root"),
      };
      const up = await vagrantUp(inputs);
      assert.equal(fs.readFileSync(path.join(dir, "Vagrantfile"), "utf8"), inputs.vagrantfile);
      assert.equal(fs.statSync(dir).mode & 0o777, 0o700, "the machines' private keys are under it");
      assert.deepEqual(Object.keys(up.keys), names);
      assert.equal(up.keys["compute-2"], `${dir}/.vagrant/machines/compute-2/libvirt/private_key`);

      const fewer = machines.slice(0, 3);
      await vagrantUp(
        {
          ...inputs,
          names: fewer.map((m) => m.alias),
          vagrantfile: renderVagrantfile(fewer, "debian/bookworm64", "libvirt", "root"),
        },
        ["compute-2"],
      );
      await vagrantDestroy(inputs);
      assert.equal(fs.existsSync(dir), false, "the stack's vagrant directory is removed");
      assert.deepEqual(fs.readFileSync(log, "utf8").trim().split("\n"), [
        `${dir} up --provider=libvirt`,
        `${dir} ssh-config`,
        `${dir} destroy -f compute-2`,
        `${dir} up --provider=libvirt`,
        `${dir} ssh-config`,
        `${dir} destroy -f`,
      ]);
    });

    test("a machine ssh-config does not know fails the up, naming it", async () => {
      const dir = path.join(bin, "other");
      const inputs = {
        dir,
        backend: "virtualbox" as const,
        names: ["control-1", "ghost-1"],
        vagrantfile: renderVagrantfile(machines.slice(0, 1), "b", "virtualbox", "root"),
      };
      await assert.rejects(vagrantUp(inputs), /vagrant ssh-config says nothing of ghost-1/);
      execFileSync("rm", ["-rf", dir]);
    });
  });
});
