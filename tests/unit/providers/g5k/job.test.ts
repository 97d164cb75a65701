import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { OarJobView } from "../../../../providers/g5k/api";
import { reuseProblem } from "../../../../providers/g5k/job";

/** A job found open by the experiment's name, as the API shows it once it runs. */
const running: OarJobView = {
  uid: 1234,
  name: "enos-mine",
  state: "running",
  types: ["deploy"],
  assigned_nodes: ["paravance-3.rennes.grid5000.fr", "parasilo-1.rennes.grid5000.fr", "paravance-1.rennes.grid5000.fr"],
  resources_by_type: { vlans: ["4"] },
};
const asked = { paravance: 2, parasilo: 1 };

describe("reusing a Grid'5000 job found by its name", () => {
  test("a running deploy job with the nodes asked per cluster and the KaVLAN asked is reused", () => {
    assert.equal(reuseProblem(running, "rennes", asked, true), undefined);
  });

  test("other node counts, another cluster or no KaVLAN: refused, naming the job, both holdings, the fix", () => {
    const more = reuseProblem(running, "rennes", { paravance: 1, parasilo: 1 }, true);
    assert.equal(
      more,
      "OAR job 1234 on rennes is named enos-mine like this experiment's job but holds parasilo: 1, paravance: 2 " +
        "and a KaVLAN where it asks parasilo: 1, paravance: 1 and a KaVLAN; " +
        "delete it (oardel 1234 on the rennes frontend) or give this experiment another provider.name",
    );
    assert.match(
      reuseProblem(running, "rennes", { paravance: 2, grisou: 1 }, true) ?? "",
      /asks grisou: 1, paravance: 2/,
    );
    assert.match(
      reuseProblem({ ...running, resources_by_type: {} }, "rennes", asked, true) ?? "",
      /holds parasilo: 1, paravance: 2 where it asks parasilo: 1, paravance: 2 and a KaVLAN/,
    );
  });

  test("a job that does not run yet is not taken: what it holds is unknown", () => {
    const waiting = reuseProblem({ ...running, state: "waiting", assigned_nodes: [] }, "rennes", asked, true);
    assert.match(
      waiting ?? "",
      /but is waiting: what it holds is known once it runs; run up again then to reuse it, or delete/,
    );
  });

  test("a job that is not of type deploy cannot have its nodes deployed: refused", () => {
    assert.match(
      reuseProblem({ ...running, types: [] }, "rennes", asked, true) ?? "",
      /but is not a deploy job \(types: none\); delete it/,
    );
  });
});
