import * as pulumi from "@pulumi/pulumi";
import { experimentProgram } from "./components/program";
import { PROJECT_DIR, stateDirOf } from "./config/paths";

// The program of `pulumi up` in this directory, or in an experiment directory whose Pulumi.yaml names
// this file as its main (`enos new --dir`): Pulumi runs it here, and passes Pulumi.yaml's directory as
// the root, where that experiment's stack files, state and results are. @pulumi/pulumi runs the
// function a CommonJS main assigns to module.exports (it ignores an `export default`), and uses what
// it returns as the outputs.
export = () => {
  const dir = pulumi.runtime.getRootDirectory() || PROJECT_DIR;
  return experimentProgram({ projectDir: dir, stateDir: stateDirOf(dir) })();
};
