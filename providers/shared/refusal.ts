import * as pulumi from "@pulumi/pulumi";

/**
 * Stands in for a testbed that cannot be had (a plugin missing, clusters the API does not know…):
 * its check fails with the reason, so that preview and up stop there with that message, before
 * anything is acquired. (A program that threw instead would leave its pending outputs rejecting
 * after the update has ended.)
 */
interface RefusalInputs {
  refused: string;
  reason: string;
}

const refusalProvider: pulumi.dynamic.ResourceProvider = {
  // The failure names the short `refused` property: the engine prints "property refused value
  // {<name>} has a problem: <reason>", the reason once.
  async check(_olds: RefusalInputs, news: RefusalInputs) {
    return { inputs: news, failures: [{ property: "refused", reason: news.reason }] };
  },
  async create(inputs: RefusalInputs): Promise<pulumi.dynamic.CreateResult> {
    throw new Error(inputs.reason);
  },
};

export class Refusal extends pulumi.dynamic.Resource {
  constructor(name: string, reason: string, opts?: pulumi.CustomResourceOptions) {
    super(refusalProvider, name, { refused: name, reason }, opts, "enos", "Refusal");
  }
}
