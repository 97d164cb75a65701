import * as pulumi from "@pulumi/pulumi";

/**
 * Fails the update, with `problem` as its message, before anything that depends on it runs; passes
 * when `problem` is empty. A failed check records nothing, so it is checked again on the next update.
 */
interface PreconditionInputs {
  problem: string;
}

const check = (inputs: PreconditionInputs) => {
  if (inputs.problem) throw new Error(inputs.problem);
};

const preconditionProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: PreconditionInputs) {
    check(inputs);
    return { id: "precondition", outs: inputs };
  },
  async diff(_id: string, olds: PreconditionInputs, news: PreconditionInputs) {
    return { changes: olds.problem !== news.problem };
  },
  async update(_id: string, _olds: PreconditionInputs, news: PreconditionInputs) {
    check(news);
    return { outs: news };
  },
};

export class Precondition extends pulumi.dynamic.Resource {
  constructor(name: string, args: { problem: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
    super(preconditionProvider, name, args, opts, "enos", "Precondition");
  }
}
