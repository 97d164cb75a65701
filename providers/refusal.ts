import * as pulumi from "@pulumi/pulumi";

/**
 * Stands in for a testbed that cannot be had (a plugin missing, clusters the API does not know…):
 * its check fails with the reason, so that preview and up stop there with that message, before
 * anything is acquired. (A program that threw instead would leave its pending outputs rejecting
 * after the update has ended.)
 */
const refusalProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: { reason: string }, news: { reason: string }) {
    return { inputs: news, failures: [{ property: "reason", reason: news.reason }] };
  },
  async create(inputs: { reason: string }): Promise<pulumi.dynamic.CreateResult> {
    throw new Error(inputs.reason);
  },
};

export class Refusal extends pulumi.dynamic.Resource {
  constructor(name: string, reason: string, opts?: pulumi.CustomResourceOptions) {
    super(refusalProvider, name, { reason }, opts, "enos", "Refusal");
  }
}
