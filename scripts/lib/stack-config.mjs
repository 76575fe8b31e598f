// Keeps a checkout's working copy of a stack's config file in step with the committed one.
//
// Pulumi writes into the stack's config file: the encryption salt when the stack is created,
// every `pulumi config set`, and it re-serialises the file when it does. The committed
// Pulumi.<stack>.yaml must stay as committed (a clone is clean after `npm run up`, and another
// checkout's passphrase must not meet this one's salt), so scripts/stack points Pulumi at a
// git-ignored copy with --config-file. This script creates that copy from the committed file and,
// on later runs, carries the committed settings over to it: committed config values win, a plain
// value removed from the committed file is removed, and the copy keeps what only it has
// (encryption salt, encrypted secrets, per-checkout settings).
//
//   node scripts/lib/stack-config.mjs Pulumi.dev.yaml .pulumi-state/Pulumi.dev.yaml
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { parse, parseDocument } from "yaml";

const [committedFile, copyFile] = process.argv.slice(2);
if (!committedFile || !copyFile) {
  console.error("usage: stack-config.mjs COMMITTED_FILE COPY_FILE");
  process.exit(2);
}
if (!existsSync(copyFile)) {
  copyFileSync(committedFile, copyFile);
  process.exit(0);
}

const committed = parse(readFileSync(committedFile, "utf8")) ?? {};
const copy = parseDocument(readFileSync(copyFile, "utf8"));
const current = copy.toJS() ?? {};
let changed = false;
for (const [key, value] of Object.entries(committed.config ?? {})) {
  if (isDeepStrictEqual(current.config?.[key], value)) continue;
  copy.setIn(["config", key], value);
  changed = true;
}
// A plain setting no longer committed goes too (removing a line from the committed file must take
// effect); encrypted secrets and the settings scripts/stack keeps per checkout stay.
// The local backup store (scripts/s3-store) is a machine's own, set in the copy only.
const PER_CHECKOUT = new Set([
  "nexus-platform:localCommands",
  "nexus-platform:backupStoreEndpoint",
  "nexus-platform:backupStoreBucket",
  "nexus-platform:backupStoreRegion",
]);
for (const [key, value] of Object.entries(current.config ?? {})) {
  if (key in (committed.config ?? {}) || PER_CHECKOUT.has(key) || (value && typeof value === "object" && "secure" in value)) continue;
  copy.deleteIn(["config", key]);
  changed = true;
}
// Other stack settings (a team's secrets provider and its encrypted key, environments) are
// taken when the copy has none yet: the copy's own may already protect its secrets.
for (const [key, value] of Object.entries(committed)) {
  if (key === "config" || key in current) continue;
  copy.set(key, value);
  changed = true;
}
if (changed) writeFileSync(copyFile, copy.toString());
