import { captureRequestTimeouts } from "../shared/engine";
import { serve } from "../shared/serve";
import { commandPlugin } from "./provider";

/**
 * pulumi-resource-command, enos-pulumi's own: @pulumi/command's resources (see provider.ts). The
 * official Go plugin can be neither downloaded nor built here: no release binary is reachable, and the Go
 * module proxy refuses pulumi-command's modules (docs/this-machine.md).
 */
const version: string = require("@pulumi/command/package.json").pulumi.version;

captureRequestTimeouts();
serve((engine) => commandPlugin(version, engine), process.argv.slice(2));
