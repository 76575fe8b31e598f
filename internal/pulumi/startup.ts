/**
 * How the project's processes start under Pulumi's runners, faster: both undo work the SDK does
 * at start-up that our compiled code does not need. Only the launchers call them (bin/program.js
 * for the program, policy/main.js for the pack), before they load the code;
 * test/internal/startup.test.ts fails when an SDK upgrade changes what they rely on.
 *
 * The program: Pulumi's program runner installs source-map-support (`source-map-support/register`
 * in @pulumi/pulumi/cmd/run), and the SDK reads a stack trace of unlimited depth for every
 * resource it registers and one for every promise it tracks. Our build has no source maps, so the
 * mapping finds nothing, yet it wraps every frame of every trace: about a quarter of the program's
 * CPU in a preview (bench/README.md). V8's own format gives the same text, which is what the SDK
 * parses for a resource's source position.
 *
 * The policy pack: @pulumi/policy's `deserialize` module requires the whole of @pulumi/pulumi (its
 * index loads the automation API, dynamic providers, invokes, ...) and reads nothing of it but
 * `asset` (to rebuild assets and archives) and `Output` (to refuse one). That load is about half
 * of the pack's start, and the engine starts the pack before it runs the program, so every
 * preview with the gate waits for it. `lightPolicySdk()` puts a stand-in for @pulumi/pulumi's
 * index into the module cache, at the path @pulumi/policy resolves it to: it serves those two from
 * the modules that define them (the same modules the index re-exports) and loads the real index
 * the first time anything else is read, so code that needs more still gets it.
 */
import Module, { createRequire } from "node:module";
import * as path from "node:path";

/** The members of @pulumi/pulumi's index that @pulumi/policy reads, and the modules that define them. */
export const POLICY_READS: Readonly<Record<string, (req: NodeJS.Require) => unknown>> = {
  asset: (req) => req("@pulumi/pulumi/asset"),
  Output: (req) => (req("@pulumi/pulumi/output") as { Output: unknown }).Output,
};

/** The name of the `Error.prepareStackTrace` function source-map-support installs. */
export const SOURCE_MAP_SUPPORT_HOOK = "prepareStackTrace";

/** V8's own stack traces instead of source-map-support's, for a program built without source maps. */
export function plainStackTraces(): void {
  if (Error.prepareStackTrace?.name === SOURCE_MAP_SUPPORT_HOOK) delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
}

/** @pulumi/policy without the whole of @pulumi/pulumi, for the pack in the folder `from`. */
export function lightPolicySdk(from: string = process.cwd()): void {
  const policy = createRequire(path.join(from, "noop.js")).resolve("@pulumi/policy/deserialize");
  const req = createRequire(policy);
  const index = req.resolve("@pulumi/pulumi");
  // Something loaded the whole package already: nothing to save.
  if (require.cache[index]) return;

  let real: Record<string | symbol, unknown> | undefined;
  const whole = () => {
    if (!real) {
      delete require.cache[index];
      real = req(index) as Record<string | symbol, unknown>;
    }
    return real;
  };
  const standIn = new Module(index);
  standIn.filename = index;
  standIn.loaded = true;
  standIn.exports = new Proxy(
    {},
    {
      get: (_, key) => (typeof key === "string" && Object.hasOwn(POLICY_READS, key) ? POLICY_READS[key]!(req) : whole()[key]),
      has: (_, key) => key in whole(),
    },
  );
  require.cache[index] = standIn;
}
