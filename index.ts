import { experimentProgram } from "./components/program";
import { PROJECT_DIR, STATE_DIR } from "./config/paths";

// The program of `pulumi up` in this directory. @pulumi/pulumi runs the function a CommonJS main
// assigns to module.exports (it ignores an `export default`), and uses what it returns as the outputs.
export = experimentProgram({ projectDir: PROJECT_DIR, stateDir: STATE_DIR });
