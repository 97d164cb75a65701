import { createRequire } from "node:module";
import * as path from "node:path";
import type * as grpc from "@grpc/grpc-js";
import type * as engineGrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import type * as enginePb from "@pulumi/pulumi/proto/engine_pb";
import type * as langGrpc from "@pulumi/pulumi/proto/language_grpc_pb";
import type * as langPb from "@pulumi/pulumi/proto/language_pb";
import type * as pluginPb from "@pulumi/pulumi/proto/plugin_pb";
import type * as emptyPb from "google-protobuf/google/protobuf/empty_pb";
import type * as structPb from "google-protobuf/google/protobuf/struct_pb";

/** The modules the host needs, all from the program's @pulumi/pulumi so that they are its instances. */
export interface Sdk {
  version: string;
  grpc: typeof grpc;
  lang: typeof langPb;
  langGrpc: typeof langGrpc;
  plugin: typeof pluginPb;
  engine: typeof enginePb;
  engineGrpc: typeof engineGrpc;
  empty: typeof emptyPb;
  struct: typeof structPb;
}

/** Resolves a module as the program will: from its own directory. */
export function resolveFromProgram(programDir: string, request: string): string {
  try {
    return createRequire(path.join(programDir, "pulumi-language-nodejs")).resolve(request);
  } catch (err) {
    const why = (err as Error).message.split("\n")[0];
    throw new Error(
      `cannot load ${request} from ${programDir} (${why}): install the project's dependencies (npm ci) first`,
    );
  }
}

export function loadSdk(programDir: string): Sdk {
  const fromSdk = createRequire(resolveFromProgram(programDir, "@pulumi/pulumi/package.json"));
  return {
    version: fromSdk("./package.json").version,
    grpc: fromSdk("@grpc/grpc-js"),
    lang: fromSdk("./proto/language_pb"),
    langGrpc: fromSdk("./proto/language_grpc_pb"),
    plugin: fromSdk("./proto/plugin_pb"),
    engine: fromSdk("./proto/engine_pb"),
    engineGrpc: fromSdk("./proto/engine_grpc_pb"),
    empty: fromSdk("google-protobuf/google/protobuf/empty_pb"),
    struct: fromSdk("google-protobuf/google/protobuf/struct_pb"),
  };
}
