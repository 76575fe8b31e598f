// Prints the version of an installed package as package-lock.json records it, so that the
// bootstrap builds each Pulumi provider plugin at exactly the version of its npm SDK.
//
//   node scripts/lib/lock-version.mjs package-lock.json @pulumi/kubernetes
import { readFileSync } from "node:fs";

const [lockFile, name] = process.argv.slice(2);
if (!lockFile || !name) {
  console.error("usage: lock-version.mjs LOCKFILE PACKAGE");
  process.exit(2);
}
const lock = JSON.parse(readFileSync(lockFile, "utf8"));
const version = lock.packages?.[`node_modules/${name}`]?.version;
if (!version) process.exit(1);
console.log(version);
