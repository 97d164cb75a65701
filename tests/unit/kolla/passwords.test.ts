import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import * as yaml from "js-yaml";
import { rsaKeyPair } from "../../../components/rsa-key-pair";
import { ConfigError } from "../../../config/errors";
import { PROJECT_DIR } from "../../../config/paths";
import { describeCheck, parseCheckOutput, rolesByHost } from "../../../kolla/check";
import { kollaAnsibleCopy, renderInstallScript, resolvePatches } from "../../../kolla/install";
import { fernetFromBase64, maskSecrets, renderPasswords, secretKinds, uuidFromBytes } from "../../../kolla/passwords";
import { renderRegistryRemovalScript, renderRegistryScript } from "../../../kolla/registry";

const TEMPLATE = fs.readFileSync(
  path.join(PROJECT_DIR, ".venv", "share", "kolla-ansible", "etc_examples", "kolla", "passwords.yml"),
  "utf8",
);

describe("kolla passwords", () => {
  test("every key of the release's template gets kolla-genpwd's kind", () => {
    const kinds = secretKinds(TEMPLATE);
    assert.deepEqual(Object.keys(kinds).sort(), Object.keys(yaml.load(TEMPLATE) as object).sort());
    assert.equal(kinds.keystone_admin_password, "password");
    assert.equal(kinds.nova_ssh_key, "ssh_key");
    assert.equal(kinds.rbd_secret_uuid, "uuid");
    assert.equal(kinds.docker_registry_password, "blank");
    assert.equal(kinds.barbican_crypto_key, "fernet");
  });

  test("a value the template already gives is kept", () => {
    assert.deepEqual(secretKinds("a:\nb: fixed\n"), { a: "password", b: { value: "fixed" } });
  });

  test("uuids and Fernet keys from random bytes have kolla-genpwd's form", () => {
    assert.equal(uuidFromBytes("ffffffffffffffffffffffffffffffff"), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    assert.equal(uuidFromBytes("00000000000000000000000000000000"), "00000000-0000-4000-8000-000000000000");
    assert.throws(() => uuidFromBytes("00"), /a UUID needs 16 random bytes, got 1/);
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => 250 - i));
    const fernet = fernetFromBase64(bytes.toString("base64"));
    assert.match(fernet, /^[A-Za-z0-9_-]{43}=$/);
    assert.deepEqual(Buffer.from(fernet, "base64url"), bytes);
  });

  test("ssh keys are real 4096-bit RSA OpenSSH keys, the public one of the private one", () => {
    const key = rsaKeyPair(4096);
    assert.match(key.privateKey, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-key-"));
    try {
      fs.writeFileSync(path.join(dir, "id"), key.privateKey, { mode: 0o600 });
      fs.writeFileSync(path.join(dir, "id.pub"), `${key.publicKey}\n`);
      assert.match(
        execFileSync("ssh-keygen", ["-l", "-f", path.join(dir, "id.pub")], { encoding: "utf8" }),
        /^4096 SHA256:.* \(RSA\)/,
      );
      assert.equal(
        execFileSync("ssh-keygen", ["-y", "-f", path.join(dir, "id")], { encoding: "utf8" }).trim(),
        key.publicKey,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a dry run masks every generated value but keeps passwords.yml's shape", () => {
    assert.deepEqual(maskSecrets({ a: "password", k: "ssh_key", r: "blank", f: { value: "given" } }), {
      a: "********",
      k: { private_key: "********", public_key: "********" },
      r: null,
      f: "given",
    });
  });

  test("passwords.yml reads back as the values", () => {
    const values = { b: "x", a: { private_key: "-----BEGIN\nline\n", public_key: "ssh-rsa AAAA" }, c: null };
    assert.deepEqual(yaml.load(renderPasswords(values)), values);
  });
});

describe("kolla-ansible copy and patches", () => {
  const base = {
    globals: { openstack_release: "2026.1" },
    setupVenv: "/p/.venv",
    setupRequirement: "kolla-ansible==22.2.0",
    cacheDir: "/cache",
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-patch-"));
  fs.writeFileSync(path.join(dir, "start.yml"), "- name: patched\n");
  const seedPatch = {
    name: "Patch mariadb start",
    src: "{{ cwd }}/start.yml",
    dst: "kolla/ansible/roles/mariadb/tasks/start.yml",
    enabled: true,
  };
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("the default release, unpatched, is the venv scripts/setup made", () => {
    assert.deepEqual(kollaAnsibleCopy({ ...base, patches: [] }), {
      requirement: "kolla-ansible==22.2.0",
      venv: "/p/.venv",
      madeBySetup: true,
      patches: [],
    });
  });

  test("another release, or kolla_repo + kolla_ref, gets a venv of its own", () => {
    const older = kollaAnsibleCopy({ ...base, globals: { openstack_release: "2025.1" }, patches: [] });
    assert.equal(older.requirement, "kolla-ansible==20.6.0");
    assert.match(older.venv, /^\/cache\/kolla-ansible-[0-9a-f]{16}$/);
    const repo = kollaAnsibleCopy({
      ...base,
      kollaRepo: "https://opendev.org/openstack/kolla-ansible",
      kollaRef: "stable/2025.2",
      patches: [],
    });
    assert.equal(repo.requirement, "git+https://opendev.org/openstack/kolla-ansible@stable/2025.2");
    assert.equal(
      kollaAnsibleCopy({ ...base, kollaRepo: "file:///src/kolla-ansible", patches: [] }).requirement,
      "git+file:///src/kolla-ansible",
    );
  });

  test("Enos' patch: {{ cwd }} is the directory given, dst drops Enos' kolla/ prefix", () => {
    const [patch] = resolvePatches([seedPatch], dir);
    assert.deepEqual(
      { ...patch, sha256: patch.sha256.length },
      {
        name: "Patch mariadb start",
        src: path.join(dir, "start.yml"),
        dst: "ansible/roles/mariadb/tasks/start.yml",
        sha256: 64,
      },
    );
    assert.deepEqual(resolvePatches([{ ...seedPatch, enabled: false }], dir), []);
  });

  test("a patch whose file is missing or whose dst leaves the tree is a config error naming the key", () => {
    assert.throws(
      () =>
        resolvePatches(
          [
            { ...seedPatch, src: "{{ cwd }}/nope.yml" },
            { ...seedPatch, dst: "../etc/passwd" },
          ],
          dir,
        ),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /patches\[0\]\.src[\s\S]*nope\.yml does not exist/);
        assert.match(error.message, /patches\[1\]\.dst[\s\S]*inside the kolla-ansible tree/);
        return true;
      },
    );
  });

  test("a patched copy is its own venv: installed once, the patches copied over the tree", () => {
    const patches = resolvePatches([seedPatch], dir);
    const copy = kollaAnsibleCopy({ ...base, patches });
    assert.equal(copy.madeBySetup, false);
    const script = renderInstallScript(copy, "/p/scripts/constraints.txt");
    assert.match(
      script,
      /pip install -q --disable-pip-version-check 'kolla-ansible==22\.2\.0' ansible -c '\/p\/scripts\/constraints\.txt'/,
    );
    assert.ok(
      script.includes(
        `install -D -m 0644 '${path.join(dir, "start.yml")}' '${copy.venv}/share/kolla-ansible/ansible/roles/mariadb/tasks/start.yml'  # Patch mariadb start`,
      ),
    );
    assert.match(script, /cat '.*\/share\/kolla-ansible\/etc_examples\/kolla\/passwords\.yml'\n$/);
    // An edited patch file makes another copy.
    fs.writeFileSync(path.join(dir, "start.yml"), "- name: patched again\n");
    assert.notEqual(kollaAnsibleCopy({ ...base, patches: resolvePatches([seedPatch], dir) }).venv, copy.venv);
  });
});

describe("kolla internal registry", () => {
  const place = { address: "10.231.0.251", device: "eth0" };
  const internal = { type: "internal" as const, port: 4000, mirror: "https://quay.io", ceph: false };
  test("a pull-through cache of quay.io at the extra IP, on the host's network, on its own storage", () => {
    const script = renderRegistryScript(internal, place);
    assert.match(script, /ip addr replace 10\.231\.0\.251\/32 dev eth0\n/);
    assert.match(
      script,
      /docker run -d --restart always --name enos_registry --network host -v \/var\/lib\/enos-registry:\/var\/lib\/registry \\\n {2}-e REGISTRY_HTTP_ADDR=10\.231\.0\.251:4000 -e REGISTRY_PROXY_REMOTEURL=https:\/\/quay\.io registry:2\n/,
    );
    assert.match(
      renderRegistryScript({ ...internal, mirror: "none" }, place),
      / -e REGISTRY_HTTP_ADDR=10\.231\.0\.251:4000 registry:2\n/,
      "mirror: none, a registry that takes pushes",
    );
    assert.doesNotMatch(script, /rbd/);
    assert.match(
      script,
      /the internal registry needs root[\s\S]*\| sudo -n bash -s\n/,
      "a login other than root goes through sudo",
    );
  });
  test("with ceph, the storage is an RBD image mapped with the given keys", () => {
    const registry = {
      ...internal,
      ceph: true,
      ceph_id: "discovery",
      ceph_keyring: "/home/discovery/.ceph/ceph.client.discovery.keyring",
      ceph_rbd: "discovery_kolla_registry/datas",
      ceph_mon_host: ["ceph0.rennes.grid5000.fr", "ceph1.rennes.grid5000.fr"],
    };
    assert.match(
      renderRegistryScript(registry, place),
      /rbd map discovery_kolla_registry\/datas --id discovery --keyring \/home\/discovery\/\.ceph\/ceph\.client\.discovery\.keyring -m ceph0\.rennes\.grid5000\.fr,ceph1\.rennes\.grid5000\.fr/,
    );
    assert.match(
      renderRegistryRemovalScript(registry, place),
      /docker rm -f enos_registry[\s\S]*rbd unmap discovery_kolla_registry\/datas[\s\S]*ip addr del 10\.231\.0\.251\/32 dev eth0/,
    );
  });
});

describe("kolla check output", () => {
  const output = [
    'localhost | SUCCESS => {"changed": false, "ping": "pong"}',
    'control-1 | SUCCESS => {"changed": false, "ping": "pong"}',
    'compute-1 | SUCCESS => {"changed": false, "ping": "pong"}',
    "@@PLAYS",
    JSON.stringify({
      playbook: "deploy",
      play: "Group hosts based on configuration",
      hosts: ["control-1", "compute-1"],
    }),
    JSON.stringify({ playbook: "deploy", play: "Apply role keystone", hosts: ["control-1"] }),
    JSON.stringify({ playbook: "deploy", play: "Apply role nova-cell", hosts: ["control-1", "compute-1"] }),
    "",
  ].join("\n");

  test("reachable hosts and each play's hosts", () => {
    const result = parseCheckOutput(output);
    assert.deepEqual(result.reachable, ["localhost", "control-1", "compute-1"]);
    assert.equal(result.plays.length, 3);
    assert.deepEqual(rolesByHost(result.plays), { "control-1": ["keystone", "nova-cell"], "compute-1": ["nova-cell"] });
  });

  test("the summary says what a deploy would apply, and which playbooks could not be listed", () => {
    const text = describeCheck(parseCheckOutput(output));
    assert.match(
      text,
      /^kolla check: 2 hosts and this machine \(kolla's deployment host\) answer Ansible through the inventory; a deploy would apply:\n {2}control-1: keystone, nova-cell\n {2}compute-1: nova-cell\n/,
    );
    assert.match(text, /bootstrap-servers not listed: its playbook needs the openstack\.kolla collection/);
  });
});
