import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { openStack } from "../../cli/workspace";
import { KollaPasswords } from "../../components/kolla-passwords";
import { TEST_PASSPHRASE } from "../support/harness";

// passwords.yml's values on @pulumi/random (the project's plugin) and RsaKeyPair, through the real
// engine: each kind's form, secrecy in the state, the same URNs whichever way the template is read,
// and a key added by a new template gets a value while the others keep theirs.

const TEMPLATE = [
  "database_password:",
  "rbd_secret_uuid:",
  "designate_rndc_key:",
  "barbican_crypto_key:",
  "prometheus_bcrypt_salt:",
  "nova_ssh_key:\n  private_key:\n  public_key:",
  "docker_registry_password:",
  "fixed_key: given",
  "",
].join("\n");

test("kolla passwords: one resource per key, each of its kind, secret, stable, grown with the template", {
  timeout: 300_000,
}, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-kolla-passwords-"));
  const templateFile = path.join(dir, "passwords.yml");
  try {
    const stack = await openStack(
      `kp${process.pid}`,
      "kolla-passwords",
      async () => {
        // Until the file exists, the template comes as the install Command's output would bring it.
        const passwords = new KollaPasswords("kolla-passwords", {
          templateFile,
          installedTemplate: pulumi.output(TEMPLATE),
        });
        return { values: passwords.values };
      },
      { stateDir: dir, workDir: dir, passphrase: TEST_PASSPHRASE },
    );
    const state = () =>
      fs.readFileSync(path.join(dir, ".pulumi", "stacks", "kolla-passwords", `${stack.name}.json`), "utf8");

    const up = await stack.up();
    assert.equal(up.outputs.values.secret, true);
    const values = up.outputs.values.value;
    assert.match(values.database_password, /^[A-Za-z0-9]{40}$/);
    assert.match(values.rbd_secret_uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(values.designate_rndc_key, /^[0-9a-f]{32}$/);
    assert.match(values.barbican_crypto_key, /^[A-Za-z0-9_-]{43}=$/);
    assert.equal(Buffer.from(values.barbican_crypto_key, "base64url").length, 32);
    assert.match(values.prometheus_bcrypt_salt, /^[A-Za-z0-9./]{22}$/);
    assert.match(values.nova_ssh_key.private_key, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    assert.match(values.nova_ssh_key.public_key, /^ssh-rsa AAAA/);
    assert.equal(values.docker_registry_password, null);
    assert.equal(values.fixed_key, "given");
    const text = state();
    const privateKeyLine = values.nova_ssh_key.private_key.split("\n")[1];
    for (const secret of [
      values.database_password,
      values.rbd_secret_uuid,
      values.designate_rndc_key,
      values.barbican_crypto_key,
      values.prometheus_bcrypt_salt,
      privateKeyLine,
      values.nova_ssh_key.public_key.slice(8, 60),
    ]) {
      assert.ok(!text.includes(secret), `${secret.slice(0, 6)}… is not in the state in plain`);
    }

    // The template now on disk: read at program time, the same resources (URNs), nothing changes.
    fs.writeFileSync(templateFile, TEMPLATE);
    const again = await stack.up();
    assert.deepEqual(again.summary.resourceChanges, { same: 8 });
    assert.deepEqual(again.outputs.values.value, values);

    // A release with one key more: the preview shows its password; the up adds it and keeps the others.
    fs.writeFileSync(templateFile, `${TEMPLATE}keystone_admin_password:\n`);
    const planned: string[] = [];
    const onEvent = (event: EngineEvent) => {
      const step = event.resourcePreEvent?.metadata;
      if (step && step.op !== "same") planned.push(`${step.op} ${step.type} ${step.urn.split("::").pop()}`);
    };
    await stack.preview({ onEvent });
    assert.deepEqual(planned, [
      "create random:index/randomPassword:RandomPassword kolla-passwords-keystone_admin_password",
    ]);
    const grown = await stack.up();
    assert.deepEqual(grown.summary.resourceChanges, { create: 1, same: 8 });
    const { keystone_admin_password: added, ...kept } = grown.outputs.values.value;
    assert.match(added, /^[A-Za-z0-9]{40}$/);
    assert.deepEqual(kept, values);

    await stack.destroy();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
