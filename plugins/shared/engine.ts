import { AsyncLocalStorage } from "node:async_hooks";
import * as grpc from "@grpc/grpc-js";
import { EngineClient } from "@pulumi/pulumi/proto/engine_grpc_pb";
import { LogRequest, LogSeverity } from "@pulumi/pulumi/proto/engine_pb";

/**
 * What the plugins need from the engine beyond @pulumi/pulumi/provider's Provider interface: a log
 * channel (a command's lines show while it runs, as upstream's status messages), the custom timeout
 * of the request being served (the watch on the engine's life is ../engine-watch, shared with the language host).
 */

/** The engine's address: the first argument that is not one of the flags the engine may prepend. */
export function engineAddress(args: string[]): string | undefined {
  const rest = args.filter(
    (a, i) => a !== "--logtostderr" && !a.startsWith("-v=") && a !== "--tracing" && args[i - 1] !== "--tracing",
  );
  return rest[0];
}

/** Sends ephemeral info lines about a resource to the engine (dropped when there is no engine). */
export function engineLog(address: string | undefined): (urn: string, line: string) => void {
  if (!address) return () => undefined;
  const client = new EngineClient(address, grpc.credentials.createInsecure());
  return (urn, line) => {
    const request = new LogRequest().setSeverity(LogSeverity.INFO).setMessage(line).setUrn(urn).setEphemeral(true);
    // A log line that cannot be delivered is no reason to fail the command.
    client.log(request, () => undefined);
  };
}

const requestTimeout = new AsyncLocalStorage<number>();

/** The custom timeout in seconds (0: none) of the create, update or delete being served. */
export function currentTimeout(): number {
  return requestTimeout.getStore() ?? 0;
}

type TimedHandler = (call: { request: { getTimeout(): number } }, callback: unknown) => unknown;

/**
 * @pulumi/pulumi's provider server reads no `timeout` from CreateRequest, UpdateRequest and
 * DeleteRequest (the resource option customTimeouts), so the plugin catches it on the way in: its
 * handlers run inside an async context that holds the timeout. Call before `main`.
 */
export function captureRequestTimeouts(): void {
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service, implementation) {
    const wrapped: grpc.UntypedServiceImplementation = Object.create(implementation);
    for (const method of ["create", "update", "delete"]) {
      const handler = implementation[method] as unknown as TimedHandler | undefined;
      if (!handler) continue;
      const timed: TimedHandler = (call, callback) =>
        requestTimeout.run(call.request.getTimeout(), () => handler.call(implementation, call, callback));
      wrapped[method] = timed as unknown as grpc.UntypedHandleCall;
    }
    return addService.call(this, service, wrapped);
  };
}
