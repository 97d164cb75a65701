import * as pulumi from "@pulumi/pulumi";
import { removeIfEmpty } from "../config/files";

/** A file on the operator's machine that lives as long as the stack: written on create/update, removed on delete. */
interface FileInputs {
  path: string;
  content: string;
  mode: number;
}

function write(inputs: FileInputs) {
  const fs: typeof import("node:fs") = require("node:fs");
  const path: typeof import("node:path") = require("node:path");
  fs.mkdirSync(path.dirname(inputs.path), { recursive: true });
  fs.writeFileSync(inputs.path, inputs.content, { mode: inputs.mode });
  fs.chmodSync(inputs.path, inputs.mode);
}

const fileProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: FileInputs) {
    write(inputs);
    return { id: inputs.path, outs: inputs };
  },
  async diff(_id: string, olds: FileInputs, news: FileInputs) {
    const changed = (["path", "content", "mode"] as const).filter((k) => olds[k] !== news[k]);
    return { changes: changed.length > 0, replaces: changed.includes("path") ? ["path"] : [] };
  },
  async update(_id: string, _olds: FileInputs, news: FileInputs) {
    write(news);
    return { outs: news };
  },
  async delete(_id: string, props: FileInputs) {
    const fs: typeof import("node:fs") = require("node:fs");
    fs.rmSync(props.path, { force: true });
    removeIfEmpty(require("node:path").dirname(props.path));
  },
};

export class File extends pulumi.dynamic.Resource {
  public readonly path!: pulumi.Output<string>;

  constructor(name: string, args: { path: string; content: pulumi.Input<string>; mode?: number }, opts?: pulumi.CustomResourceOptions) {
    super(fileProvider, name, { mode: 0o644, ...args }, opts, "enos", "File");
  }
}
