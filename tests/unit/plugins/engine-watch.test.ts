import * as assert from "node:assert/strict";
import { test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { watchEngine } from "../../../plugins/engine-watch";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("watchEngine: an engine without the health service is alive; once it is gone, gone is called once", async () => {
  const engine = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) => {
    const credentials = grpc.ServerCredentials.createInsecure();
    engine.bindAsync("127.0.0.1:0", credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  const calls: string[] = [];
  const stop = watchEngine(grpc, `127.0.0.1:${port}`, (why) => calls.push(why), 50);
  try {
    await sleep(400);
    assert.deepEqual(calls, [], "an engine that answers UNIMPLEMENTED counts as gone");
    engine.forceShutdown();
    await sleep(600);
    assert.equal(calls.length, 1, `gone was called ${calls.length} times: ${calls.join("; ")}`);
    assert.match(calls[0], new RegExp(`^engine 127\\.0\\.0\\.1:${port} unreachable \\(`));
  } finally {
    stop();
    engine.forceShutdown();
  }
});
