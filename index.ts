import * as path from "node:path";
import { experimentProgram } from "./components/program";
import { PROJECT_DIR } from "./config/paths";

// The program of `pulumi up` in this directory. @pulumi/pulumi runs the function a CommonJS main
// assigns to module.exports (it ignores an `export default`), and uses what it returns as the outputs.
export = experimentProgram({ projectDir: PROJECT_DIR, stateDir: path.join(PROJECT_DIR, ".pulumi-state") });
