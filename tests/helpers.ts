import * as net from "node:net";
import * as path from "node:path";
import { PROJECT_DIR } from "../config/paths";

/** Tests run from dist/tests; fixtures stay in the source tree. */
export const FIXTURES = path.join(PROJECT_DIR, "tests", "fixtures");

/** A free TCP port on 127.0.0.1, closed again: nothing listens on it until someone does. */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
