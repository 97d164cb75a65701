import { serve } from "../shared/serve";
import { randomPlugin } from "./provider";

// The engine looks for the plugin at the version the SDK asks for: serve that one.
const version: string = require("@pulumi/random/package.json").pulumi.version;

serve(() => randomPlugin(version), process.argv.slice(2));
