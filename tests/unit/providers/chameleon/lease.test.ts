import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { LeaseView } from "../../../../providers/chameleon/api";
import { leaseReuseProblem } from "../../../../providers/chameleon/lease";
import { leaseReservations } from "../../../../providers/chameleon/plan";

const demands = [
  { bucket: "compute_skylake", role: "control", count: 2 },
  { bucket: "storage", role: "compute", count: 1 },
];
/** An open lease found by the experiment's name, as Blazar lists it (reservations in another order). */
const found: LeaseView = {
  id: "5f0c",
  name: "enos-mine",
  status: "ACTIVE",
  start_date: "2026-12-07T05:00:00.000000",
  end_date: "2026-12-07T07:00:00.000000",
  reservations: leaseReservations(demands)
    .reverse()
    .map((r, i) => ({ ...r, id: `r${i}`, status: "active" })),
};

describe("reusing a Blazar lease found by its name", () => {
  test("a lease reserving the hosts asked per node type is reused", () => {
    assert.equal(leaseReuseProblem(found, leaseReservations(demands)), undefined);
  });

  test("another host count or node type: refused, naming the lease, both reservations and the fix", () => {
    const problem = leaseReuseProblem(found, leaseReservations([{ bucket: "storage", role: "compute", count: 3 }]));
    const host = (type: string, n: number) => `physical:host ["==","$node_type","${type}"] x${n}`;
    assert.equal(
      problem,
      "Blazar lease enos-mine (5f0c) is named like this experiment's lease " +
        `but reserves ${host("compute_skylake", 2)}, ${host("storage", 1)} where it asks ${host("storage", 3)}; ` +
        "delete it (openstack reservation lease delete 5f0c) or give this experiment another provider.lease_name",
    );
  });
});
