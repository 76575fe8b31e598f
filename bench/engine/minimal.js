"use strict";
// The minimal program of the engine benchmark (bench/engine/run.ts copies it into a generated
// project under bench/out/engine/minimal/): no registries, no schemas, no components. It reads the
// dump of our program (bench/engine/dump.ts; path in config `dump`) and registers exactly those
// custom resources, with the same types, names, inputs, options and dependencies, through one
// explicit Kubernetes provider created with the same arguments as ours. Each resource is built
// with its @pulumi/kubernetes class, looked up by type token, so the class's own options (aliases,
// secret outputs) are the same as in our program; types the SDK has no class for are registered
// as apiextensions.CustomResource, as our program does.
//
// With config `components: true` (a diagnostic, the "minimal + component tree" side), it also
// registers our program's component resources (same types, names and parents, empty outputs
// registered as ours does) and puts each custom resource under the same parent as in ours.
const fs = require("node:fs");
const pulumi = require("@pulumi/pulumi");
const k8s = require("@pulumi/kubernetes");

const config = new pulumi.Config();
const dump = JSON.parse(fs.readFileSync(config.require("dump"), "utf8"));
const tree = config.getBoolean("components") === true;

/** "kubernetes:apps/v1:Deployment" -> k8s.apps.v1.Deployment (groups by their first label). */
function classFor(type) {
  const m = /^kubernetes:([^/:]+)\/([^:]+):(.+)$/.exec(type);
  if (!m) throw new Error(`not a Kubernetes type token: ${type}`);
  const group = m[1].split(".")[0];
  const mod = k8s[group];
  const cls = mod && mod[m[2]] && mod[m[2]][m[3]];
  return cls && cls.__pulumiType === type ? cls : undefined;
}

/** The inputs with the values our program passed as secrets wrapped as secrets again. */
function withSecrets(inputs, paths) {
  for (const at of paths) {
    if (at.length === 0) return pulumi.secret(inputs);
    let parent = inputs;
    for (const key of at.slice(0, -1)) parent = parent[key];
    const last = at[at.length - 1];
    parent[last] = pulumi.secret(parent[last]);
  }
  return inputs;
}

const provider = new k8s.Provider(dump.provider.name, dump.provider.args);
const components = [];
if (tree) {
  for (const c of dump.components) {
    const component = new pulumi.ComponentResource(c.type, c.name, {}, c.parent >= 0 ? { parent: components[c.parent] } : {});
    components.push(component);
  }
  for (const c of components) c.registerOutputs({});
}
const created = [];
for (const r of dump.resources) {
  const parent = tree && r.parent >= 0 ? { parent: components[r.parent] } : {};
  const opts = { ...r.options, ...parent, provider, dependsOn: r.dependsOn.map((i) => created[i]) };
  const inputs = withSecrets(r.inputs, r.secretPaths);
  const Cls = classFor(r.type);
  created.push(Cls ? new Cls(r.name, inputs, opts) : new k8s.apiextensions.CustomResource(r.name, inputs, opts));
}
