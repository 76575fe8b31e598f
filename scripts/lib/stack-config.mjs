// Keeps a checkout's working copy of a stack's config file in step with the committed one.
//
// Pulumi writes into the stack's config file: the encryption salt when the stack is created,
// every `pulumi config set`, and it re-serialises the file when it does. scripts/stack points
// Pulumi at a git-ignored copy with --config-file, so that a checkout's own settings (and, on a
// checkout's own stack, its salt and generated secrets) never touch the committed file.
//
// Two kinds of stack, two ways of copying:
//   local  a checkout's own stack (file backend): the committed settings are carried over, but
//          never the committed secrets provider, salt or encrypted values, which belong to the
//          team's key; the copy keeps its own.
//   team   a stack the team shares (its secrets provider is committed): the copy is the committed
//          file, salt and encrypted secrets included, plus the per-checkout settings below.
// Committed config values win in both; a plain value removed from the committed file is removed.
//
//   node scripts/lib/stack-config.mjs local|team COMMITTED_FILE COPY_FILE
//   node scripts/lib/stack-config.mjs adopt CREATED_FILE COMMITTED_FILE
//     (after `scripts/stack init`: the new stack's salt or key goes into the committed file)
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { parse, parseDocument } from "yaml";

/** What ties a config file to one stack's secrets. */
const STACK_BOUND = ["secretsprovider", "encryptedkey", "encryptionsalt"];
// Settings scripts/stack keeps per checkout: the Command plugin's availability, and the local
// backup store (scripts/s3-store), a machine's own.
const PER_CHECKOUT = new Set([
  "nexus-platform:localCommands",
  "nexus-platform:backupStoreEndpoint",
  "nexus-platform:backupStoreBucket",
  "nexus-platform:backupStoreRegion",
]);
const isSecure = (value) => Boolean(value && typeof value === "object" && "secure" in value);

const [mode, fromFile, toFile] = process.argv.slice(2);
if (!["local", "team", "adopt"].includes(mode) || !fromFile || !toFile) {
  console.error("usage: stack-config.mjs local|team COMMITTED_FILE COPY_FILE | adopt CREATED_FILE COMMITTED_FILE");
  process.exit(2);
}

if (mode === "adopt") {
  const created = parse(readFileSync(fromFile, "utf8")) ?? {};
  const committed = parseDocument(readFileSync(toFile, "utf8"));
  let changed = false;
  for (const key of STACK_BOUND) {
    if (created[key] === undefined || isDeepStrictEqual(committed.get(key), created[key])) continue;
    committed.set(key, created[key]);
    changed = true;
  }
  if (changed) writeFileSync(toFile, committed.toString());
  process.exit(0);
}

const committedText = readFileSync(fromFile, "utf8");
const committed = parse(committedText) ?? {};
if (!existsSync(toFile)) {
  // A new copy starts as the committed file (its comments included), less what local mode leaves out.
  const fresh = parseDocument(committedText);
  if (mode === "local") {
    for (const key of STACK_BOUND) fresh.delete(key);
    for (const [key, value] of Object.entries(committed.config ?? {})) if (isSecure(value)) fresh.deleteIn(["config", key]);
  }
  writeFileSync(toFile, fresh.toString());
  process.exit(0);
}
const copy = parseDocument(readFileSync(toFile, "utf8"));
const current = copy.toJS() ?? {};
let changed = false;

const set = (pathInDoc, value) => {
  copy.setIn(pathInDoc, value);
  changed = true;
};
const remove = (pathInDoc) => {
  copy.deleteIn(pathInDoc);
  changed = true;
};

for (const [key, value] of Object.entries(committed.config ?? {})) {
  if (mode === "local" && isSecure(value)) continue;
  if (!isDeepStrictEqual(current.config?.[key], value)) set(["config", key], value);
}
for (const [key, value] of Object.entries(current.config ?? {})) {
  if (key in (committed.config ?? {}) || PER_CHECKOUT.has(key)) continue;
  // A team stack's secrets are the committed ones; a local stack keeps its own.
  if (mode === "local" && isSecure(value)) continue;
  remove(["config", key]);
}
for (const [key, value] of Object.entries(committed)) {
  if (key === "config") continue;
  const bound = STACK_BOUND.includes(key);
  if (mode === "local" && bound) continue;
  // Other stack settings (environments) are taken when the copy has none yet; a team stack's
  // provider, key and salt always follow the committed file.
  if (mode === "team" && bound ? !isDeepStrictEqual(current[key], value) : !(key in current)) set([key], value);
}
if (mode === "team") for (const key of STACK_BOUND) if (key in current && !(key in committed)) remove([key]);
if (changed) writeFileSync(toFile, copy.toString());
