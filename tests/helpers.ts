import * as path from "node:path";
import { PROJECT_DIR } from "../config/paths";

/** Tests run from dist/tests; fixtures stay in the source tree. */
export const FIXTURES = path.join(PROJECT_DIR, "tests", "fixtures");
