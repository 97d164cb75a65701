import type * as grpc from "@grpc/grpc-js";

/** How often the engine is checked for life. */
const ENGINE_CHECK_MS = 5000;

/**
 * Calls `gone` once when the engine at `address` stops answering: the CLI is gone and nobody will ever stop
 * this plugin (the official plugins watch the same way). An engine without the health service counts as
 * alive. `grpc` is the caller's own @grpc/grpc-js. Returns a function that stops the watch.
 */
export function watchEngine(
  g: typeof grpc,
  address: string,
  gone: (why: string) => void,
  everyMs = ENGINE_CHECK_MS,
): () => void {
  const client = new g.Client(address, g.credentials.createInsecure());
  const stop = () => {
    clearInterval(timer);
    client.close();
  };
  const timer = setInterval(() => {
    client.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      () => Buffer.alloc(0),
      (b: Buffer) => b,
      {},
      (err) => {
        if (!err || err.code === g.status.UNIMPLEMENTED) return;
        stop();
        gone(`engine ${address} unreachable (${err.details})`);
      },
    );
  }, everyMs);
  timer.unref();
  return stop;
}
