import * as path from "node:path";

/** The project directory (Pulumi.yaml, package.json), whether this runs from the sources or from dist/. */
export const PROJECT_DIR = path.resolve(__dirname, "..", path.basename(path.resolve(__dirname, "..")) === "dist" ? ".." : "");
