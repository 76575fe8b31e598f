// Runs the dynamic provider of the program's own @pulumi/pulumi: the CLI starts this plugin in
// the program's directory, so the SDK resolves from there (not from wherever this file lives).
// The provider module starts serving when loaded, reading its arguments from process.argv.
import { createRequire } from "node:module";
import * as path from "node:path";

const require = createRequire(path.join(process.cwd(), "package.json"));
require(require.resolve("@pulumi/pulumi/cmd/dynamic-provider"));
