import * as pulumi from "@pulumi/pulumi";
import type { TestbedNetwork } from "../../config/types";
import { VIP_NAMES, type Vips } from "../../config/vips";

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

/**
 * What `compute` gives, or, when it throws, a Refusal with its message (and `placeholder`, which nothing
 * gets to use: preview and up stop at the Refusal). For a problem only an apply can find, where a throw
 * would be an unhandled rejection naming no resource.
 */
export function refusedOnError<T>(
  name: string,
  compute: () => T,
  placeholder: T,
  opts: pulumi.CustomResourceOptions,
): pulumi.Output<pulumi.Unwrap<T>> {
  try {
    return pulumi.output(compute());
  } catch (error) {
    return new Refusal(name, (error as Error).message, opts).id.apply(() => pulumi.output(placeholder));
  }
}

/** The network of a testbed that was refused: never used, preview and up stop at the refusal. */
export const NO_NETWORK: TestbedNetwork = {
  extraIps: [],
  vips: Object.fromEntries(VIP_NAMES.map((name) => [name, { address: "", from: "" }])) as Vips,
  external: { start: "", end: "", cidr: "", gateway: "", dns: "" },
  eths: ["", ""],
};
