// Reads `go mod edit -json` of a module from stdin and prints the `-replace=...` flags that carry
// its replace directives over to a wrapper module (go install refuses modules with replaces).
// Replaces by a published module are kept as they are; local ones cannot be, so a replace by a
// Kubernetes staging directory (./staging/src/...) becomes the published module at
// STAGING_VERSION when one is given, and any other local replace is left out (the caller
// requires those modules itself).
//
//   go mod edit -json go.mod | node scripts/lib/go-replace-flags.mjs [STAGING_VERSION]
import { readFileSync } from "node:fs";

const staging = process.argv[2] ?? "";
const mod = JSON.parse(readFileSync(0, "utf8"));
for (const { Old: from, New: to } of mod.Replace ?? []) {
  const old = from.Version ? `${from.Path}@${from.Version}` : from.Path;
  const local = to.Path.startsWith(".") || to.Path.startsWith("/");
  if (!local) console.log(`-replace=${old}=${to.Path}@${to.Version}`);
  else if (staging && to.Path.startsWith("./staging/src/")) console.log(`-replace=${old}=${from.Path}@${staging}`);
}
