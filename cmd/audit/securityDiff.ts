/**
 * What a change of the registries does to security in one environment: every setting that
 * loosens or tightens between the model of a base (e.g. the pull request's target branch) and
 * the model of the working tree. A pure function of the two models; where each new value is
 * written comes from a `Locate` over the head registries (securityLocate.ts).
 *
 * Direction rules, for a reviewer reading one line:
 * - anything that grants more (a wider level, an added exception, subject, verb, CIDR, port,
 *   network path, image registry or approver) loosens; the opposite tightens;
 * - a change that both adds and removes (e.g. RBAC verbs get → delete) loosens, since what it
 *   adds is what needs review;
 * - an entry that appears or disappears is compared with the most restrictive value: a new
 *   internal service is no change, a new public one loosens.
 */
import { POLICY_IDS, type Enforcement, type RegistryKey } from "../../domain/schema";
import type { Model, ResolvedException, ResolvedService, ResolvedTask } from "../../domain/model";

export type Direction = "loosens" | "tightens";

/** The kinds of setting compared, in the order the report lists them. */
export const CHANGE_AREAS = [
  "pod-security",
  "policy",
  "exception",
  "rbac",
  "network",
  "egress",
  "image-registry",
  "service",
  "task",
  "approval",
  "policy-gate",
] as const;
export type ChangeArea = (typeof CHANGE_AREAS)[number];

export interface SecurityChange {
  direction: Direction;
  environment: string;
  area: ChangeArea;
  /** The setting, e.g. "policy read-only-root-filesystem". */
  what: string;
  /** Its value at the base, "none" when it was absent. */
  from: string;
  /** Its value now, "none" when it is gone. */
  to: string;
  /** Registry FILE:LINE of the new value (of the section it was removed from, for a removal). */
  source: string;
}

/**
 * A step into a resolved registry document: a key, a list index, or an object that picks the
 * list element whose fields all equal its own (entries are named, not numbered, in a diff). An
 * element written in its short form, a plain string (an image registry), is picked by a
 * one-field object holding that string.
 */
export type Segment = string | number | Readonly<Record<string, string>>;

/** FILE:LINE of the value at `path` of the head registries, in the environment compared. */
export type Locate = (registry: RegistryKey, path: readonly Segment[]) => string;

export const NONE = "none";

/** One change as one line of text: direction, environment, what, from → to, and where. */
export function changeLine(c: SecurityChange): string {
  return `${c.direction} ${c.environment}: ${c.what}: ${c.from} → ${c.to} (${c.source})`;
}

type Emit = (direction: Direction, area: ChangeArea, what: string, from: string, to: string, registry: RegistryKey, path: readonly Segment[]) => void;

/**
 * Every loosening and tightening from `base` to `head`, two models of the same environment:
 * loosenings first, then by area (CHANGE_AREAS), then in registry order.
 */
export function securityChanges(base: Model, head: Model, locate: Locate): SecurityChange[] {
  const environment = head.environment.name;
  const out: SecurityChange[] = [];
  const emit: Emit = (direction, area, what, from, to, registry, path) =>
    out.push({ direction, environment, area, what, from, to, source: locate(registry, path) });
  podSecurity(base, head, emit);
  policies(base, head, emit);
  exceptions(base, head, emit);
  rbac(base, head, emit);
  network(base, head, emit);
  egress(base, head, emit);
  imageRegistries(base, head, emit);
  services(base, head, emit);
  tasks(base, head, emit);
  approval(base, head, emit);
  policyGates(base, head, emit);
  const rank = (c: SecurityChange) => (c.direction === "loosens" ? 0 : 1) * CHANGE_AREAS.length + CHANGE_AREAS.indexOf(c.area);
  return out
    .map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i)
    .map(({ c }) => c);
}

// ---------------------------------------------------------------------------------------------
// Helpers

const list = (items: readonly string[]) => (items.length === 0 ? NONE : items.join(", "));

function byKey<T>(items: readonly T[], key: (t: T) => string): Map<string, T> {
  const out = new Map<string, T>();
  for (const item of items) if (!out.has(key(item))) out.set(key(item), item);
  return out;
}

/** Keys of both maps: the head's in its order, then those only the base has. */
function unionKeys(base: ReadonlyMap<string, unknown>, head: ReadonlyMap<string, unknown>): string[] {
  return [...new Set([...head.keys(), ...base.keys()])];
}

/**
 * One line per element added (loosens) or removed (tightens) from a set-like list, e.g. the
 * subjects of a binding; an added element is located at itself, a removed one at the list.
 */
function elements(
  emit: Emit,
  area: ChangeArea,
  what: string,
  base: readonly string[],
  head: readonly string[],
  registry: RegistryKey,
  at: readonly Segment[],
  addedLoosens = true,
  element: (value: string, i: number) => Segment = (_, i) => i,
): void {
  const grow: Direction = addedLoosens ? "loosens" : "tightens";
  const shrink: Direction = addedLoosens ? "tightens" : "loosens";
  head.forEach((h, i) => {
    if (!base.includes(h) && head.indexOf(h) === i) emit(grow, area, what, NONE, h, registry, [...at, element(h, i)]);
  });
  for (const b of new Set(base)) if (!head.includes(b)) emit(shrink, area, what, b, NONE, registry, at);
}

// ---------------------------------------------------------------------------------------------
// security.yaml

const POD_SECURITY_STRICTNESS: Record<string, number> = { privileged: 0, baseline: 1, restricted: 2 };

function podSecurity(base: Model, head: Model, emit: Emit): void {
  const b = base.security.podSecurity.level;
  const h = head.security.podSecurity.level;
  if (b === h) return;
  const direction = POD_SECURITY_STRICTNESS[h]! < POD_SECURITY_STRICTNESS[b]! ? "loosens" : "tightens";
  emit(direction, "pod-security", "Pod Security level", b, h, "security", ["podSecurity", "level"]);
}

const ENFORCEMENT_LAXITY: Record<Enforcement, number> = { mandatory: 0, advisory: 1, disabled: 2 };

function policies(base: Model, head: Model, emit: Emit): void {
  for (const id of POLICY_IDS) {
    const b = base.security.enforcement[id];
    const h = head.security.enforcement[id];
    if (b === h) continue;
    const direction = ENFORCEMENT_LAXITY[h] > ENFORCEMENT_LAXITY[b] ? "loosens" : "tightens";
    emit(direction, "policy", `policy ${id}`, b, h, "security", ["policies", { id }, "enforcement"]);
  }
}

/** The exceptions of one policy and resource; several entries count as the one that lasts longest. */
function lastingExceptions(model: Model): Map<string, ResolvedException> {
  const out = new Map<string, ResolvedException>();
  for (const e of model.security.exceptions) {
    const key = `${e.policy} for ${e.resource}`;
    const known = out.get(key);
    if (!known || e.expires > known.expires) out.set(key, e);
  }
  return out;
}

function exceptions(base: Model, head: Model, emit: Emit): void {
  const b = lastingExceptions(base);
  const h = lastingExceptions(head);
  const at = (e: ResolvedException) => ["exceptions", { policy: e.policy, resource: e.resource, granted: e.granted, expires: e.expires }];
  for (const key of unionKeys(b, h)) {
    const was = b.get(key);
    const is = h.get(key);
    const what = `exception ${key}`;
    if (!was) emit("loosens", "exception", what, NONE, `until ${is!.expires} (applies to ${is!.appliesTo.join(", ")})`, "security", at(is!));
    else if (!is) emit("tightens", "exception", what, `until ${was.expires}`, NONE, "security", ["exceptions"]);
    else if (was.expires !== is.expires) {
      emit(is.expires > was.expires ? "loosens" : "tightens", "exception", `${what} expires`, was.expires, is.expires, "security", [...at(is), "expires"]);
    }
  }
}

type Binding = Model["security"]["rbac"][number];

const VERB_ORDER = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "*"];
const byVerbOrder = (a: string, b: string) => VERB_ORDER.indexOf(a) - VERB_ORDER.indexOf(b);

/** "pods" for the core API group, "apps/deployments" for the others. */
const resourceName = (group: string, resource: string) => (group === "" ? resource : `${group}/${resource}`);

/** The verbs a binding grants on each resource, whichever rule grants them. */
function grants(binding: Binding): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const rule of binding.rules) {
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        const key = resourceName(group, resource);
        const verbs = out.get(key) ?? new Set<string>();
        for (const verb of rule.verbs) verbs.add(verb);
        out.set(key, verbs);
      }
    }
  }
  return out;
}

const subjectName = (s: Binding["subjects"][number]) => `${s.kind} ${s.name}`;

/** A binding in one value: who, where, and which verbs on which resources. */
function describeBinding(binding: Binding): string {
  const byVerbs = new Map<string, string[]>();
  for (const [resource, verbs] of grants(binding)) {
    const key = [...verbs].sort(byVerbOrder).join(", ");
    byVerbs.set(key, [...(byVerbs.get(key) ?? []), resource]);
  }
  const granted = [...byVerbs].map(([verbs, resources]) => `${verbs} on ${resources.join(", ")}`).join("; ");
  return `${binding.subjects.map(subjectName).join(", ")} in ${binding.namespaces.join(", ")}: ${granted}`;
}

/**
 * Where a binding grants verbs on a resource: the rule that grants the added verbs (any rule
 * granting the resource when none were added), at the resource when the resource is new, else
 * at its verbs; nothing when no rule grants it any more.
 */
function grantingRule(binding: Binding, resource: string, added: readonly string[], newResource: boolean): Segment[] {
  const grantsIt = (r: Binding["rules"][number]) => r.apiGroups.some((g) => r.resources.some((x) => resourceName(g, x) === resource));
  let k = binding.rules.findIndex((r) => grantsIt(r) && added.some((v) => (r.verbs as readonly string[]).includes(v)));
  if (k < 0) k = binding.rules.findIndex(grantsIt);
  if (k < 0) return [];
  const rule = binding.rules[k]!;
  const i = rule.resources.findIndex((x) => rule.apiGroups.some((g) => resourceName(g, x) === resource));
  return newResource ? [k, "resources", i] : [k, "verbs"];
}

function rbac(base: Model, head: Model, emit: Emit): void {
  const b = byKey(base.security.rbac, (x) => x.name);
  const h = byKey(head.security.rbac, (x) => x.name);
  for (const name of unionKeys(b, h)) {
    const was = b.get(name);
    const is = h.get(name);
    const what = `rbac binding ${name}`;
    const at = ["rbac", { name }];
    if (!was) {
      emit("loosens", "rbac", what, NONE, describeBinding(is!), "security", at);
      continue;
    }
    if (!is) {
      emit("tightens", "rbac", what, describeBinding(was), NONE, "security", ["rbac"]);
      continue;
    }
    elements(emit, "rbac", `${what} subject`, was.subjects.map(subjectName), is.subjects.map(subjectName), "security", [...at, "subjects"]);
    elements(emit, "rbac", `${what} namespace`, was.namespaces, is.namespaces, "security", [...at, "namespaces"]);
    const wasGrants = grants(was);
    const isGrants = grants(is);
    for (const resource of unionKeys(wasGrants, isGrants)) {
      const from = [...(wasGrants.get(resource) ?? [])].sort(byVerbOrder);
      const to = [...(isGrants.get(resource) ?? [])].sort(byVerbOrder);
      if (from.join() === to.join()) continue;
      const added = to.filter((v) => !from.includes(v));
      emit(added.length > 0 ? "loosens" : "tightens", "rbac", `${what} verbs on ${resource}`, list(from), list(to), "security", [
        ...at,
        "rules",
        ...grantingRule(is, resource, added, from.length === 0),
      ]);
    }
  }
}

function network(base: Model, head: Model, emit: Emit): void {
  const b = base.security.network;
  const h = head.security.network;
  if (b.defaultDeny !== h.defaultDeny) {
    emit(h.defaultDeny ? "tightens" : "loosens", "network", "network defaultDeny", String(b.defaultDeny), String(h.defaultDeny), "security", [
      "network",
      "defaultDeny",
    ]);
  }
  if (b.allowDns !== h.allowDns) {
    emit(h.allowDns ? "loosens" : "tightens", "network", "network allowDns", String(b.allowDns), String(h.allowDns), "security", ["network", "allowDns"]);
  }
}

type EgressRule = Model["security"]["network"]["egress"][number];

/** An egress rule in one value; no namespaces means every namespace. */
const describeEgress = (r: EgressRule) =>
  `${r.cidrs.join(", ")} port ${r.ports.join(", ")} from ${r.namespaces.length === 0 ? "all namespaces" : r.namespaces.join(", ")}`;

/** Egress to AWS services by name: the services, ports and namespaces of each rule; more of any loosens. */
function awsEgress(base: Model, head: Model, emit: Emit): void {
  const b = byKey(base.security.network.awsEgress, (r) => r.name);
  const h = byKey(head.security.network.awsEgress, (r) => r.name);
  for (const name of unionKeys(b, h)) {
    const [was, is] = [b.get(name), h.get(name)];
    const at = is ? ["network", "awsEgress", { name }] : ["network", "awsEgress"];
    const what = `AWS egress rule ${name}`;
    elements(emit, "egress", `${what} service`, was?.services ?? [], is?.services ?? [], "security", is ? [...at, "services"] : at);
    const ports = (r: typeof was) => (r?.ports ?? []).map((p) => String(p));
    elements(emit, "egress", `${what} port`, ports(was), ports(is), "security", is ? [...at, "ports"] : at);
    const all = (r: typeof was) => (r ? (r.namespaces.length === 0 ? ["all namespaces"] : r.namespaces) : []);
    elements(emit, "egress", `${what} namespace`, all(was), all(is), "security", is ? [...at, "namespaces"] : at);
  }
}

function egress(base: Model, head: Model, emit: Emit): void {
  awsEgress(base, head, emit);
  const b = byKey(base.security.network.egress, (r) => r.name);
  const h = byKey(head.security.network.egress, (r) => r.name);
  for (const name of unionKeys(b, h)) {
    const was = b.get(name);
    const is = h.get(name);
    const what = `egress rule ${name}`;
    const at = ["network", "egress", { name }];
    if (!was) {
      emit("loosens", "egress", what, NONE, describeEgress(is!), "security", at);
      continue;
    }
    if (!is) {
      emit("tightens", "egress", what, describeEgress(was), NONE, "security", ["network", "egress"]);
      continue;
    }
    elements(emit, "egress", `${what} CIDR`, was.cidrs, is.cidrs, "security", [...at, "cidrs"]);
    elements(
      emit,
      "egress",
      `${what} port`,
      was.ports.map((p) => String(p)),
      is.ports.map((p) => String(p)),
      "security",
      [...at, "ports"],
    );
    // An empty namespace list opens the rule to every namespace.
    const all = (ns: readonly string[]) => ns.length === 0;
    if (all(was.namespaces) !== all(is.namespaces)) {
      const [from, to] = [was.namespaces, is.namespaces].map((ns) => (all(ns) ? "all namespaces" : ns.join(", ")));
      emit(all(is.namespaces) ? "loosens" : "tightens", "egress", `${what} namespaces`, from!, to!, "security", [...at, "namespaces"]);
    } else {
      elements(emit, "egress", `${what} namespace`, was.namespaces, is.namespaces, "security", [...at, "namespaces"]);
    }
  }
}

/**
 * The registries allowed in the environment, whether every environment or only some allow them:
 * one scoped to this environment counts like a plain one. Located by name, since the model's list
 * leaves out the entries scoped to other environments.
 */
function imageRegistries(base: Model, head: Model, emit: Emit): void {
  const [b, h] = [base.security.imageRegistries, head.security.imageRegistries];
  elements(emit, "image-registry", "allowed image registry", b, h, "security", ["imageRegistries"], true, (registry) => ({ registry }));
}

// ---------------------------------------------------------------------------------------------
// orchestration.yaml and automation.yaml

function services(base: Model, head: Model, emit: Emit): void {
  const b = byKey(base.services, (s) => s.name);
  const h = byKey(head.services, (s) => s.name);
  for (const name of unionKeys(b, h)) {
    const was = b.get(name);
    const is = h.get(name);
    const at = (field: string) => (is ? ["services", { name }, field] : ["services"]);
    // An absent service is compared as internal and without a token: adding an internal one changes nothing.
    const exposure = (s: ResolvedService | undefined) => s?.exposure ?? "internal";
    if (exposure(was) !== exposure(is)) {
      const show = (s: ResolvedService | undefined) => (s ? s.exposure : NONE);
      emit(exposure(is) === "public" ? "loosens" : "tightens", "service", `service ${name} exposure`, show(was), show(is), "orchestration", at("exposure"));
    }
    const token = (s: ResolvedService | undefined) => s?.automountServiceAccountToken ?? false;
    if (token(was) !== token(is)) {
      const show = (s: ResolvedService | undefined) => (s ? String(s.automountServiceAccountToken) : NONE);
      emit(token(is) ? "loosens" : "tightens", "service", `service ${name} automountServiceAccountToken`, show(was), show(is), "orchestration", [
        ...at("automountServiceAccountToken"),
      ]);
    }
  }
  networkPaths(base, head, emit);
}

interface NetworkPath {
  registry: RegistryKey;
  at: Segment[];
}

/**
 * The paths between workloads the network policies open (components/builders/network.ts): a
 * service reaches what it depends on, a task run in the cluster its target and what it depends on.
 */
function pathsOf(model: Model): Map<string, NetworkPath> {
  const known = new Set(model.services.map((s) => s.name));
  const out = new Map<string, NetworkPath>();
  const add = (key: string, p: NetworkPath) => out.has(key) || out.set(key, p);
  for (const s of model.services) {
    s.dependsOn.forEach((dep, i) => {
      if (known.has(dep)) add(`${s.name} → ${dep}`, { registry: "orchestration", at: ["services", { name: s.name }, "dependsOn", i] });
    });
  }
  for (const t of model.tasks) {
    if (t.runner === "local-command") continue;
    if (t.target && known.has(t.target)) add(`task ${t.name} → ${t.target}`, { registry: "automation", at: ["tasks", { name: t.name }, "target"] });
    t.dependsOn.forEach((dep, i) => {
      if (known.has(dep)) add(`task ${t.name} → ${dep}`, { registry: "automation", at: ["tasks", { name: t.name }, "dependsOn", i] });
    });
  }
  return out;
}

function networkPaths(base: Model, head: Model, emit: Emit): void {
  const b = pathsOf(base);
  const h = pathsOf(head);
  for (const [key, p] of h) if (!b.has(key)) emit("loosens", "network", `network path ${key}`, "closed", "open", p.registry, p.at);
  for (const [key, p] of b) {
    if (h.has(key)) continue;
    // Located at the workload's list when it still exists, else at its registry's list.
    const [section, entry, field] = p.at;
    const still = p.registry === "orchestration" ? head.services : head.tasks;
    const name = (entry as Record<string, string>).name!;
    const at = still.some((x) => x.name === name) ? [section!, entry!, field!] : [section!];
    emit("tightens", "network", `network path ${key}`, "open", "closed", p.registry, at);
  }
}

/** Where a task runs: local commands run outside the cluster's controls, with the deployer's credentials. */
const runsLocally = (t: ResolvedTask | undefined) => t !== undefined && t.enabled && t.runner === "local-command";

function tasks(base: Model, head: Model, emit: Emit): void {
  const b = byKey(base.tasks, (t) => t.name);
  const h = byKey(head.tasks, (t) => t.name);
  const show = (t: ResolvedTask | undefined) => (!t ? NONE : t.enabled ? t.runner : `${t.runner} (disabled)`);
  for (const name of unionKeys(b, h)) {
    const was = b.get(name);
    const is = h.get(name);
    apiReads(emit, name, was && base, was, is && head, is);
    if (runsLocally(was) === runsLocally(is)) continue;
    emit(
      runsLocally(is) ? "loosens" : "tightens",
      "task",
      `task ${name} runner`,
      show(was),
      show(is),
      "automation",
      is ? ["tasks", { name }, "runner"] : ["tasks"],
    );
  }
}

/**
 * What a task reads through the Kubernetes API (clusterAccess): each resource it may read and each
 * namespace it reads in, an absent clusterAccess being nothing; gaining either loosens.
 */
function apiReads(
  emit: Emit,
  name: string,
  base: Model | undefined,
  was: ResolvedTask | undefined,
  head: Model | undefined,
  is: ResolvedTask | undefined,
): void {
  const reads = (t: ResolvedTask | undefined) => t?.clusterAccess?.read ?? [];
  const where = (m: Model | undefined, t: ResolvedTask | undefined) =>
    t?.clusterAccess ? (t.clusterAccess.namespaces ?? m!.namespaces.map((n) => n.name)) : [];
  const at = is?.clusterAccess ? ["tasks", { name }, "clusterAccess"] : is ? ["tasks", { name }] : ["tasks"];
  elements(emit, "task", `task ${name} reads through the API`, reads(was), reads(is), "automation", is?.clusterAccess ? [...at, "read"] : at);
  const nsAt = is?.clusterAccess?.namespaces ? [...at, "namespaces"] : at;
  elements(emit, "task", `task ${name} reads the API in namespace`, where(base, was), where(head, is), "automation", nsAt);
}

// ---------------------------------------------------------------------------------------------
// pipelines.yaml

function approval(base: Model, head: Model, emit: Emit): void {
  const env = head.environment.name;
  const b = base.environment;
  const h = head.environment;
  const at = (...field: string[]) => ["environments", { name: env }, ...field];
  if (b.production !== h.production) {
    emit(
      h.production ? "tightens" : "loosens",
      "approval",
      `environment ${env} production`,
      String(b.production),
      String(h.production),
      "pipelines",
      at("production"),
    );
  }
  const [was, is] = [b.approval, h.approval];
  if (was.required !== is.required) {
    emit(is.required ? "tightens" : "loosens", "approval", `approval of ${env} required`, String(was.required), String(is.required), "pipelines", [
      ...at("approval", "required"),
    ]);
  }
  // Any listed reviewer can approve: one more widens who lets a deploy through. Compared only
  // while an approval is required on both sides; otherwise the line above says what matters.
  if (was.required && is.required) {
    elements(emit, "approval", `approval of ${env} reviewer`, was.reviewers, is.reviewers, "pipelines", at("approval", "reviewers"));
  }
  if (was.waitMinutes !== is.waitMinutes) {
    emit(
      is.waitMinutes < was.waitMinutes ? "loosens" : "tightens",
      "approval",
      `approval of ${env} waitMinutes`,
      String(was.waitMinutes),
      String(is.waitMinutes),
      "pipelines",
      [...at("approval", "waitMinutes")],
    );
  }
}

type GateState = "on" | "off" | "none";

/** Each pipeline stage that targets the environment: whether it runs the policy gate there. */
function gatesOf(model: Model): Map<string, { state: GateState; pipeline: string; stage: string }> {
  const env = model.environment.name;
  const out = new Map<string, { state: GateState; pipeline: string; stage: string }>();
  for (const p of model.pipelines) {
    for (const s of p.stages) {
      if (s.targets.includes(env)) out.set(`${p.name}/${s.name}`, { state: s.policyGate ? "on" : "off", pipeline: p.name, stage: s.name });
    }
  }
  return out;
}

function policyGates(base: Model, head: Model, emit: Emit): void {
  const b = gatesOf(base);
  const h = gatesOf(head);
  for (const key of unionKeys(b, h)) {
    const was = b.get(key)?.state ?? "none";
    const is = h.get(key)?.state ?? "none";
    // Only the gate running or not matters; a stage that runs without it is no gate either way.
    if ((was === "on") === (is === "on")) continue;
    const gate = h.get(key) ?? b.get(key)!;
    const inHead = head.pipelines.find((p) => p.name === gate.pipeline);
    const at: Segment[] = !inHead
      ? ["pipelines"]
      : inHead.stages.some((s) => s.name === gate.stage)
        ? ["pipelines", { name: gate.pipeline }, "stages", { name: gate.stage }, is === "none" ? "targets" : "policyGate"]
        : ["pipelines", { name: gate.pipeline }, "stages"];
    emit(is === "on" ? "tightens" : "loosens", "policy-gate", `policy gate of stage ${key}`, was, is, "pipelines", at);
  }
}
