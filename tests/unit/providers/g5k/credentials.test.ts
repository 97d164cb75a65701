import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { g5kApiNow, g5kCredentials } from "../../../../providers/g5k/credentials";

describe("Grid'5000 credentials, read at each call", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-g5k-creds-"));
  const file = path.join(dir, "python-grid5000.yaml");
  const none = () => undefined;

  test("the stack's enos:g5k_username/g5k_password first, else the python-grid5000 file", () => {
    fs.writeFileSync(file, "username: bob\npassword: fromfile\n");
    const keys: Record<string, string> = { g5k_username: "alice", g5k_password: "s3cret" };
    assert.deepEqual(
      g5kCredentials((k) => keys[k], file),
      { username: "alice", password: "s3cret" },
    );
    assert.deepEqual(g5kCredentials(none, file), { username: "bob", password: "fromfile" });
  });

  test("the API of an account gets the password as it is now: a changed file is read again", () => {
    const account = { url: "https://api.grid5000.fr/stable/", credentialsFile: file };
    fs.writeFileSync(file, "username: bob\npassword: old\n");
    assert.equal(g5kApiNow(account, none).credentials.password, "old");
    fs.writeFileSync(file, "username: bob\npassword: n3w\n");
    assert.deepEqual(g5kApiNow(account, none), { url: account.url, credentials: { username: "bob", password: "n3w" } });
  });

  test("none at all: the error says both ways to give them", () => {
    assert.throws(
      () => g5kCredentials(none, path.join(dir, "missing.yaml")),
      /Grid'5000 credentials missing: set them with `pulumi config set enos:g5k_username LOGIN` .* or write .*missing/,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
