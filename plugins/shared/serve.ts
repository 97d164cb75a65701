import * as grpc from "@grpc/grpc-js";
import { main, type Provider } from "@pulumi/pulumi/provider";
import { watchEngine } from "../engine-watch";
import { engineAddress } from "./engine";

/** How often a plugin checks that its engine still answers: its commands outlive a killed engine until then. */
const ENGINE_CHECK_MS = 1000;

/** A plugin: the provider it serves, and how it stops the work it has in flight before it exits. */
export interface Plugin {
  provider: Provider;
  /** Stops what the plugin started (the commands it runs); resolves once they are gone. */
  stop?(): Promise<void>;
}

/**
 * Serves a plugin as @pulumi/pulumi/provider's `main` does (the engine's address is in `args`), and
 * ends it, after its `stop`, when the engine is gone or on SIGTERM or SIGINT.
 */
export function serve(make: (engine: string | undefined) => Plugin, args: string[]): void {
  const address = engineAddress(args);
  const plugin = make(address);
  let exiting = false;
  const exit = () => {
    if (exiting) return;
    exiting = true;
    void (plugin.stop?.() ?? Promise.resolve()).finally(() => process.exit(0));
  };
  if (address) watchEngine(grpc, address, exit, ENGINE_CHECK_MS);
  process.on("SIGTERM", exit);
  process.on("SIGINT", exit);
  void main(plugin.provider, args);
}
