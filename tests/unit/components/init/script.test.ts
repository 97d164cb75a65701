import * as assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { INIT_PY, initRequest, renderInitCommand } from "../../../../components/init/script";
import { PROJECT_DIR } from "../../../../config/paths";
import { freePort } from "../../../support/helpers";

const BIN = path.join(PROJECT_DIR, ".venv", "bin");
const external = {
  cidr: "10.248.0.0/24",
  start: "10.248.0.100",
  end: "10.248.0.200",
  gateway: "10.248.0.1",
  dns: "10.248.0.1",
};

describe("OpenStack init: the command and what it tells init.py (the dev-cloud integration test runs it against a cloud)", () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-init-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("init.py gets the image and the external pool as given, the smoke check's timing defaulted or as given", () => {
    assert.deepEqual(initRequest({ openrc: "/k/admin-openrc", image: "/images/cirros.img", external }), {
      image: "/images/cirros.img",
      external,
      bootTimeout: 300,
      pollInterval: 5,
    });
    assert.deepEqual(
      initRequest({
        openrc: "/k/admin-openrc",
        image: "https://example.org/c.img",
        external,
        bootTimeout: 60,
        pollInterval: 1,
      }),
      { image: "https://example.org/c.img", external, bootTimeout: 60, pollInterval: 1 },
    );
  });

  test("the command runs init.py with the venv's python, the openrc's OS_* and its request; an unreachable Keystone fails it, named", async () => {
    const authUrl = `http://127.0.0.1:${await freePort()}/v3`;
    // A path with a space and a quote: the command quotes it.
    const openrc = path.join(dir, "admin 'openrc");
    fs.writeFileSync(
      openrc,
      [
        `export OS_AUTH_URL=${authUrl}`,
        "export OS_USERNAME=admin",
        "export OS_PASSWORD=x",
        "export OS_PROJECT_NAME=admin",
        "export OS_USER_DOMAIN_NAME=Default",
        "export OS_PROJECT_DOMAIN_NAME=Default",
        "export OS_IDENTITY_API_VERSION=3",
        "",
      ].join("\n"),
    );
    const command = renderInitCommand({ openrc, image: path.join(dir, "cirros.img"), external }, BIN);
    const started = Date.now();
    const run = spawnSync("bash", ["-c", command], { encoding: "utf8", env: { PATH: "/usr/bin:/bin", HOME: dir } });
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stdout, "", "nothing found or made");
    assert.match(
      run.stderr,
      new RegExp(
        `^init: Keystone at ${authUrl.replace(/\./g, "\\.")}: .*(refused|Unable to establish connection)`,
        "m",
      ),
    );
    assert.ok(Date.now() - started < 30_000, "fails at once, no retry loop");
  });

  test("an http(s) image is downloaded to a temporary file, removed after; a failed download names the URL and the error", async () => {
    const image = Buffer.from("QFI\xfb a cirros image, or what stands for it");
    const server = http.createServer((request, response) =>
      request.url === "/cirros.img" ? response.end(image) : response.writeHead(404).end(),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    // init.py's image_file, imported: the cloud is not needed to fetch the image.
    const fetch = (url: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          path.join(BIN, "python"),
          [
            "-c",
            `import sys; sys.path.insert(0, sys.argv[1]); import init
with init.image_file(sys.argv[2]) as path:
    print(path); print(open(path, "rb").read().hex())`,
            path.dirname(INIT_PY),
            url,
          ],
          { encoding: "utf8" },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
        ),
      );
    try {
      const fetched = await fetch(`${base}/cirros.img`);
      assert.equal(fetched.code, 0, fetched.stderr);
      const [file, hex] = fetched.stdout.trim().split("\n");
      assert.equal(hex, image.toString("hex"));
      assert.ok(!fs.existsSync(file), "the download is removed");
      const missing = await fetch(`${base}/missing.img`);
      assert.equal(missing.code, 1);
      assert.match(
        missing.stderr,
        new RegExp(`^init: image cirros.uec from ${base}/missing.img: download failed: HTTP Error 404`, "m"),
      );
    } finally {
      server.close();
    }
  });
});
