import * as assert from "node:assert/strict";
import { test } from "node:test";
import { decode, localInputs, remoteInputs } from "../../../../plugins/command/inputs";
import { MASKED, maskOf, runCommand } from "../../../../plugins/command/lifecycle";
import { local } from "../../../../plugins/command/local";
import { secret, type WireProps } from "../../../../plugins/shared/wire";

const never = new AbortController().signal;
const noPrevious = { stdout: "", stderr: "" };

test("the mask hides secrets at any depth, each line of a multi-line one, a connection's credentials", () => {
  const mask = maskOf({
    environment: { TOKEN: secret("tok-123456"), PLAIN: "visible-value" },
    connection: secret({
      host: "10.0.0.1",
      user: "root",
      privateKey: "-----BEGIN KEY-----\nAAAAline2\nBBBBline3\n",
      proxy: { host: "10.0.0.2", password: "hop-password" },
    }),
    list: [secret(["in-a-list", "abc"])],
  });
  assert.equal(mask("t=tok-123456 p=visible-value"), `t=${MASKED} p=visible-value`);
  const connection = "root@10.0.0.1 via 10.0.0.2 hop-password";
  assert.equal(mask(connection), `root@10.0.0.1 via 10.0.0.2 ${MASKED}`, "a connection's credentials only");
  assert.equal(mask("abc"), "abc", "a 3-letter value is too short to mask");
  assert.equal(mask("AAAAline2"), MASKED, "a line of a multi-line secret");
  assert.equal(mask("-----BEGIN KEY-----\nAAAAline2\nBBBBline3\n!"), `${MASKED}!`, "the whole value at once");
  assert.equal(mask("x in-a-list y"), `x ${MASKED} y`);
  assert.equal(maskOf({ a: "not-secret" })("not-secret"), "not-secret");
});

test("a local command with a secret input that prints it and fails: its lines and error show it masked", async () => {
  const value = "s3cr3t-value-42";
  const lines: string[] = [];
  const props: WireProps = {
    // The secret comes in two writes: the lines are masked once whole, not chunk by chunk.
    create: `printf 'token=s3cr3t-'; sleep 0.2; printf 'value-42\\nsecond line\\n'; echo "err $TOKEN" >&2; exit 3`,
    environment: { TOKEN: secret(value) },
  };
  const failure = await runCommand(
    local,
    (inputs) => inputs.create,
    props,
    noPrevious,
    (line) => lines.push(line),
    {
      timeoutSeconds: 0,
      cancelled: never,
    },
  ).then(
    () => assert.fail("the command should fail"),
    (error: Error) => error.message,
  );
  assert.deepEqual(lines.sort(), [`err ${MASKED}`, "second line", `token=${MASKED}`]);
  assert.match(failure, /^command failed with exit code 3 locally in /);
  assert.match(failure, /--- stdout \(last lines\) ---\ntoken=\[secret\]\nsecond line\n/);
  assert.match(failure, /--- stderr \(last lines\) ---\nerr \[secret\]/);
  assert.ok(!failure.includes(value) && !lines.join("\n").includes(value), "the value shows nowhere");
});

test("the outputs of a command with a secret input keep the value, secret", async () => {
  const props: WireProps = { create: 'echo "$TOKEN"', environment: { TOKEN: secret("kept-in-the-output") } };
  const limits = { timeoutSeconds: 0, cancelled: never };
  const outs = await runCommand(
    local,
    (inputs) => inputs.create,
    props,
    noPrevious,
    () => undefined,
    limits,
  );
  assert.deepEqual(outs.stdout, secret("kept-in-the-output"));
});

test("inputs are decoded once, with upstream's defaults; a wrong type is named by its key", () => {
  const connection = { host: "10.0.0.1", proxy: { host: "hop" } };
  const remote = decode(remoteInputs, { create: "true", connection, stdin: null });
  assert.deepEqual(remote.connection, {
    host: "10.0.0.1",
    port: 22,
    user: "root",
    dialErrorLimit: 10,
    perDialTimeout: 15,
    proxy: { host: "hop", port: 22, user: "root", dialErrorLimit: 10, perDialTimeout: 15 },
  });
  assert.equal(remote.logging, "stdoutAndStderr");
  assert.equal(remote.addPreviousOutputInEnv, true);
  assert.deepEqual(remote.environment, {});
  const wrong = /^Error: command: create: .*string.*; logging: /;
  assert.throws(() => decode(localInputs, { create: 3, logging: "loud" }), wrong);
  assert.throws(() => decode(remoteInputs, { create: "true" }), /command: connection: /);
});

test("an update gets the previous outputs in its environment, but one over Linux's 128 KiB limit is left out, said so", async () => {
  const lines: string[] = [];
  const run = (previous: { stdout: string; stderr: string }) =>
    runCommand(
      local,
      (inputs) => inputs.create,
      {
        create:
          'echo "out=$(printf %s "$PULUMI_COMMAND_STDOUT" | wc -c) err=$(printf %s "$PULUMI_COMMAND_STDERR" | wc -c)"',
      },
      previous,
      (line) => lines.push(line),
      { timeoutSeconds: 0, cancelled: never },
    );
  assert.equal((await run({ stdout: "small", stderr: "e" })).stdout, "out=5 err=1");
  // A kolla-ansible step prints more than that: the command runs all the same (no E2BIG).
  const outs = await run({ stdout: "x".repeat(200_000), stderr: "e" });
  assert.equal(outs.stdout, "out=0 err=1");
  assert.ok(lines.some((line) => /PULUMI_COMMAND_STDOUT left out: the previous output \(200000 bytes\)/.test(line)));
});
