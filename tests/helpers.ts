import * as path from "node:path";

/** Tests run from dist/tests; fixtures stay in the source tree. */
export const PROJECT_DIR = path.resolve(__dirname, path.basename(path.resolve(__dirname, "../..")) === "dist" ? "../../.." : "../..");
export const FIXTURES = path.join(PROJECT_DIR, "tests", "fixtures");
