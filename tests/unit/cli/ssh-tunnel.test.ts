import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import { describeTunnel, tunnelHost } from "../../../cli/ssh-tunnel";
import type { Host } from "../../../config/types";

const hosts = [
  { alias: "network-1", roles: ["network"] },
  { alias: "control-1", roles: ["control"] },
] as Host[];

describe("enos ssh-tunnel", () => {
  test("goes through the first control host, or the one --host names; an unknown one is a usage error", () => {
    assert.equal(tunnelHost(hosts).alias, "control-1");
    assert.equal(tunnelHost(hosts, "network-1").alias, "network-1");
    assert.throws(() => tunnelHost(hosts, "nope"), /--host nope: no such host; the hosts are network-1, control-1/);
  });

  test("says what to point the clients and a browser at", () => {
    const kolla = {
      mode: "deploy",
      vip: "10.0.0.250",
      horizonUrl: "http://10.0.0.251",
      adminOpenrc: "/k/admin-openrc",
    };
    const text = describeTunnel(2100, "control-1", kolla);
    assert.match(text, /^SOCKS5 proxy on 127\.0\.0\.1:2100, through control-1:/);
    assert.match(
      text,
      /\n {4}export http_proxy=socks5h:\/\/127\.0\.0\.1:2100 https_proxy=socks5h:\/\/127\.0\.0\.1:2100\n/,
    );
    assert.match(text, /\n {4}\. \/k\/admin-openrc && \.venv\/bin\/openstack endpoint list\n/);
    assert.match(
      text,
      /browser: SOCKS v5 proxy 127\.0\.0\.1 port 2100, DNS through the proxy; then Horizon at http:\/\/10\.0\.0\.251/,
    );
    assert.doesNotMatch(describeTunnel(2100, "control-1"), /Horizon at/);
    assert.match(
      describeTunnel(2100, "control-1", { ...kolla, horizonUrl: undefined }),
      /DNS through the proxy; then the APIs \(no Horizon: enable_horizon is no\)/,
    );
  });
});
