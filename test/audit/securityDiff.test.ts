/**
 * What a registry change does to security (cmd/audit/securityDiff.ts): each kind of change gives
 * exactly one line with its direction, environment, from → to and the FILE:LINE of the new value,
 * located in the override that sets it; nothing changed gives nothing. The minimal registries are
 * the base; each case edits a copy of them as the head.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { securityChangesSection, splitSecurityChanges } from "../../cmd/audit/securityMarkdown";
import { changeLine, securityChanges, type SecurityChange } from "../../cmd/audit/securityDiff";
import { registryLocator } from "../../cmd/audit/securityLocate";
import { loadRegistries } from "../../domain/loader";
import type { Model } from "../../domain/model";
import { copyRegistries, MINIMAL_REGISTRIES, removeRegistries, replaceIn } from "../support/registries";

const TODAY = "2026-01-15";
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeRegistries));

function load(dir: string, env: string): Model {
  const loaded = loadRegistries({ registriesDir: dir, env, today: TODAY });
  if (!loaded.model) throw new Error(`fixture does not load for ${env}:\n${loaded.problems.map((p) => `${p.file}:${p.line} ${p.message}`).join("\n")}`);
  return loaded.model;
}

const base = { dev: load(MINIMAL_REGISTRIES, "dev"), prod: load(MINIMAL_REGISTRIES, "prod") };

type Edit = [file: string, from: string, to: string];

/** The changes from the minimal registries to a copy with `edits`, and where the copy is. */
function changesAfter(env: "dev" | "prod", ...edits: Edit[]): { changes: SecurityChange[]; dir: string } {
  const dir = copyRegistries(MINIMAL_REGISTRIES);
  dirs.push(dir);
  for (const [file, from, to] of edits) replaceIn(dir, file, from, to);
  return { changes: securityChanges(base[env], load(dir, env), registryLocator(dir, env)), dir };
}

/** "registries/FILE:LINE" of the one line of the edited file that contains `text`. */
function at(dir: string, file: string, text: string): string {
  const lines = fs.readFileSync(path.join(dir, file), "utf8").split("\n");
  const found = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  if (found.length !== 1) throw new Error(`"${text}" is on ${found.length} lines of ${file}`);
  return `registries/${file}:${found[0]}`;
}

/**
 * The changes in `env` after `edits` are exactly the lines `expected` gives; it is handed a function
 * locating text in the edited copy, since each line names where its new value stands.
 */
function expectLines(env: "dev" | "prod", expected: (where: (file: string, text: string) => string) => string[], ...edits: Edit[]): void {
  const { changes, dir } = changesAfter(env, ...edits);
  expect(changes.map(changeLine)).toEqual(expected((file, text) => at(dir, file, text)));
}

describe("securityChanges", () => {
  it("gives nothing when nothing changed, and the section says so", () => {
    for (const env of ["dev", "prod"] as const) expect(changesAfter(env).changes).toEqual([]);
    const section = securityChangesSection({ environment: "dev", base: { ref: "origin/main", commit: "0123456789abcdef", loaded: true }, securityChanges: [] });
    expect(section).toEqual([
      "<!-- nexus-security-changes -->",
      "### Security changes in `dev` against `origin/main` (`0123456`)",
      "",
      "No security setting of `dev` loosens or tightens.",
      "<!-- /nexus-security-changes -->",
      "",
    ]);
  });

  it("policies: a downgrade loosens, an upgrade tightens, located in the override", () => {
    expectLines(
      "dev",
      (where) => [
        `loosens dev: policy no-privileged-containers: mandatory → disabled (${where("security.yaml", "dev: { enforcement: disabled }")})`,
        `tightens dev: policy read-only-root-filesystem: advisory → mandatory (${where("security.yaml", "        enforcement: mandatory")})`,
      ],
      [
        "security.yaml",
        "  - id: no-privileged-containers\n    enforcement: mandatory\n",
        "  - id: no-privileged-containers\n    enforcement: mandatory\n    environments: { dev: { enforcement: disabled } }\n",
      ],
      ["security.yaml", "      dev:\n        enforcement: advisory", "      dev:\n        enforcement: mandatory"],
    );
  });

  it("policies: mandatory → advisory in prod", () => {
    expectLines(
      "prod",
      (where) => [`loosens prod: policy read-only-root-filesystem: mandatory → advisory (${where("security.yaml", "prod: { enforcement: advisory }")})`],
      ["security.yaml", "      dev:\n        enforcement: advisory", "      dev:\n        enforcement: advisory\n      prod: { enforcement: advisory }"],
    );
  });

  it("exceptions: added, extended, shortened and removed", () => {
    expectLines(
      "dev",
      (where) => [
        `loosens dev: exception no-privileged-containers for api: none → until 2026-02-09 (applies to dev) (${where("security.yaml", "- policy: no-privileged-containers")})`,
      ],
      [
        "security.yaml",
        "audit:\n",
        "  - policy: no-privileged-containers\n    resource: api\n    owner: platform\n    reason: the debugger attaches to the process in development\n    appliesTo: [dev]\n    granted: 2026-01-10\n    expires: 2026-02-09\naudit:\n",
      ],
    );
    expectLines(
      "prod",
      (where) => [
        `loosens prod: exception read-only-root-filesystem for db expires: 2026-03-31 → 2026-04-01 (${where("security.yaml", "expires: 2026-04-01")})`,
      ],
      ["security.yaml", "expires: 2026-03-31", "expires: 2026-04-01"],
    );
    expectLines(
      "dev",
      (where) => [
        `tightens dev: exception read-only-root-filesystem for db expires: 2026-03-31 → 2026-02-28 (${where("security.yaml", "expires: 2026-02-28")})`,
      ],
      ["security.yaml", "expires: 2026-03-31", "expires: 2026-02-28"],
    );
    // Taken out of prod: gone there, located at the exceptions list.
    expectLines(
      "prod",
      (where) => [`tightens prod: exception read-only-root-filesystem for db: until 2026-03-31 → none (${where("security.yaml", "exceptions:")})`],
      ["security.yaml", "appliesTo: [dev, prod]", "appliesTo: [dev]"],
    );
  });

  it("exceptions: one that now applies to another environment is added there", () => {
    const dir = copyRegistries(MINIMAL_REGISTRIES);
    dirs.push(dir);
    replaceIn(dir, "security.yaml", "appliesTo: [dev, prod]", "appliesTo: [dev]");
    const narrow = load(dir, "prod");
    replaceIn(dir, "security.yaml", "appliesTo: [dev]", "appliesTo: [dev, prod]");
    expect(securityChanges(narrow, load(dir, "prod"), registryLocator(dir, "prod")).map(changeLine)).toEqual([
      `loosens prod: exception read-only-root-filesystem for db: none → until 2026-03-31 (applies to dev, prod) (${at(dir, "security.yaml", "- policy: read-only-root-filesystem")})`,
    ]);
  });

  it("rbac: verbs, resources, subjects and namespaces widened; a binding added and one removed", () => {
    expectLines(
      "prod",
      (where) => [
        `loosens prod: rbac binding platform-edit subject: none → User alice (${where("security.yaml", "subjects:")})`,
        `loosens prod: rbac binding platform-edit namespace: none → data (${where("security.yaml", "namespaces: [core, data]")})`,
        `loosens prod: rbac binding platform-edit verbs on apps/deployments: get, list, patch → get, list, patch, delete (${where("security.yaml", "verbs:")})`,
        `loosens prod: rbac binding platform-edit verbs on apps/statefulsets: none → get, list, patch, delete (${where("security.yaml", "resources:")})`,
      ],
      ["security.yaml", "verbs: [get, list, patch]", "verbs: [get, list, patch, delete]"],
      ["security.yaml", "resources: [deployments]", "resources: [deployments, statefulsets]"],
      ["security.yaml", "subjects: [{ kind: Group, name: platform }]", "subjects: [{ kind: Group, name: platform }, { kind: User, name: alice }]"],
      ["security.yaml", "namespaces: [core]", "namespaces: [core, data]"],
    );
    expectLines(
      "prod",
      (where) => [`tightens prod: rbac binding platform-edit verbs on apps/deployments: get, list, patch → get, list (${where("security.yaml", "verbs:")})`],
      ["security.yaml", "verbs: [get, list, patch]", "verbs: [get, list]"],
    );
    const binding = "  - name: platform-edit\n    owner: platform\n    namespaces: [core]\n";
    expectLines(
      "prod",
      (where) => [
        `loosens prod: rbac binding data-read: none → Group data in data: get, list on pods, pods/log (${where("security.yaml", "- name: data-read")})`,
      ],
      [
        "security.yaml",
        binding,
        `  - name: data-read\n    owner: data\n    namespaces: [data]\n    subjects: [{ kind: Group, name: data }]\n    rules:\n      - { apiGroups: [""], resources: [pods, pods/log], verbs: [get, list] }\n${binding}`,
      ],
    );
  });

  it("rbac: a removed binding tightens, located at the rbac list", () => {
    const dir = copyRegistries(MINIMAL_REGISTRIES);
    dirs.push(dir);
    const text = fs.readFileSync(path.join(dir, "security.yaml"), "utf8");
    fs.writeFileSync(path.join(dir, "security.yaml"), text.replace(/rbac:\n(?: {2}.*\n| {4}.*\n| {6}.*\n| {8}.*\n)+/, "rbac: []\n"));
    expect(securityChanges(base.prod, load(dir, "prod"), registryLocator(dir, "prod")).map(changeLine)).toEqual([
      `tightens prod: rbac binding platform-edit: Group platform in core: get, list, patch on apps/deployments → none (${at(dir, "security.yaml", "rbac: []")})`,
    ]);
  });

  it("task API reads: gaining clusterAccess loosens, per resource and namespace; narrowing it tightens", () => {
    const reads = "    command: [audit, --all]\n    clusterAccess:\n      read: [pods, deployments.apps]\n      namespaces: [core]\n";
    expectLines(
      "prod",
      (where) => [
        `loosens prod: task audit reads through the API: none → pods (${where("automation.yaml", "read: [pods, deployments.apps]")})`,
        `loosens prod: task audit reads through the API: none → deployments.apps (${where("automation.yaml", "read: [pods, deployments.apps]")})`,
        `loosens prod: task audit reads the API in namespace: none → core (${where("automation.yaml", "namespaces: [core]")})`,
      ],
      ["automation.yaml", "    command: [audit, --all]\n", reads],
    );
    const { dir } = changesAfter("prod", ["automation.yaml", "    command: [audit, --all]\n", reads]);
    const { dir: wide } = changesAfter("prod", ["automation.yaml", "    command: [audit, --all]\n", reads.replace("      namespaces: [core]\n", "")]);
    // Leaving namespaces out reads in every namespace: data is added.
    expect(securityChanges(load(dir, "prod"), load(wide, "prod"), registryLocator(wide, "prod")).map(changeLine)).toEqual([
      `loosens prod: task audit reads the API in namespace: none → data (${at(wide, "automation.yaml", "clusterAccess:")})`,
    ]);
  });

  it("AWS egress: a rule by service added loosens per service, port and namespace", () => {
    expectLines(
      "prod",
      (where) => [
        `loosens prod: AWS egress rule aws-backups service: none → sts (${where("security.yaml", "services: [sts, s3]")})`,
        `loosens prod: AWS egress rule aws-backups service: none → s3 (${where("security.yaml", "services: [sts, s3]")})`,
        `loosens prod: AWS egress rule aws-backups port: none → 443 (${where("security.yaml", "ports: [443] # aws")})`,
        `loosens prod: AWS egress rule aws-backups namespace: none → data (${where("security.yaml", "namespaces: [data] # aws")})`,
      ],
      [
        "security.yaml",
        "imageRegistries:",
        "  awsEgress:\n    - name: aws-backups\n      services: [sts, s3]\n      ports: [443] # aws\n      namespaces: [data] # aws\nimageRegistries:",
      ],
    );
  });

  it("egress: rules, CIDRs, ports and namespaces added or removed", () => {
    expectLines(
      "prod",
      (where) => [
        `loosens prod: egress rule object-storage CIDR: none → 3.5.0.0/16 (${where("security.yaml", "cidrs:")})`,
        `loosens prod: egress rule object-storage port: none → 80 (${where("security.yaml", "ports:")})`,
        `loosens prod: egress rule object-storage namespaces: data → all namespaces (${where("security.yaml", "namespaces: []")})`,
      ],
      ["security.yaml", "cidrs: [52.216.0.0/15]", "cidrs: [52.216.0.0/15, 3.5.0.0/16]"],
      ["security.yaml", "ports: [443]", "ports: [443, 80]"],
      ["security.yaml", "namespaces: [data]\nimageRegistries", "namespaces: []\nimageRegistries"],
    );
    const rule = "    - name: object-storage\n";
    expectLines(
      "prod",
      (where) => [`loosens prod: egress rule smtp: none → 203.0.113.25/32 port 587 from all namespaces (${where("security.yaml", "- name: smtp")})`],
      ["security.yaml", rule, `    - name: smtp\n      cidrs: [203.0.113.25/32]\n      ports: [587]\n${rule}`],
    );
    // dev drops the rule in an override: removed there, located at the override's list.
    expectLines(
      "dev",
      (where) => [
        `tightens dev: egress rule object-storage: 52.216.0.0/15 port 443 from data → none (${where("security.yaml", "environments: { dev: { egress: [] } }")})`,
      ],
      ["security.yaml", "network:\n", "network:\n  environments: { dev: { egress: [] } }\n"],
    );
  });

  it("network: default deny off and an image registry allowed loosen", () => {
    expectLines(
      "dev",
      (where) => [
        `loosens dev: network defaultDeny: true → false (${where("security.yaml", "defaultDeny: false")})`,
        `loosens dev: allowed image registry: none → quay.io/example (${where("security.yaml", "imageRegistries:")})`,
      ],
      ["security.yaml", "network:\n", "network:\n  defaultDeny: false\n"],
      ["security.yaml", "docker.io/grafana]", "docker.io/grafana, quay.io/example]"],
    );
  });

  it("image registries: one allowed in some environments only changes those, located at its entry", () => {
    const scoped = (envs: string) =>
      `docker.io/grafana,\n    { registry: nexus.local, environments: [${envs}], reason: Images built on the developer's machine only. },\n    quay.io/example]`;
    const edit = (envs: string): Edit => ["security.yaml", "docker.io/grafana]", scoped(envs)];
    // The lines of registries allowed anew in env, each located at its entry.
    const allowed =
      (env: string, ...registries: string[]) =>
      (where: (file: string, text: string) => string) =>
        registries.map(
          (r) => `loosens ${env}: allowed image registry: none → ${r} (${where("security.yaml", r === "nexus.local" ? "registry: nexus.local" : r)})`,
        );
    // Allowed in dev only: dev loosens; prod, which still does not allow it, sees only quay.io.
    expectLines("dev", allowed("dev", "nexus.local", "quay.io/example"), edit("dev"));
    expectLines("prod", allowed("prod", "quay.io/example"), edit("dev"));
    expectLines("prod", allowed("prod", "nexus.local", "quay.io/example"), edit("dev, prod"));
  });

  it("pod security: restricted → baseline in dev loosens, located in the override", () => {
    expectLines("dev", (where) => [`loosens dev: Pod Security level: restricted → baseline (${where("security.yaml", "dev: { level: baseline }")})`], [
      "security.yaml",
      "  level: restricted\n",
      "  level: restricted\n  environments: { dev: { level: baseline } }\n",
    ]);
  });

  it("services: exposure, the service account token and network paths", () => {
    expectLines(
      "prod",
      (where) => [
        `loosens prod: network path task audit → api: closed → open (${where("automation.yaml", "dependsOn: [api]")})`,
        `loosens prod: service api exposure: internal → public (${where("orchestration.yaml", "exposure: public")})`,
        `loosens prod: service api automountServiceAccountToken: false → true (${where("orchestration.yaml", "automountServiceAccountToken: true")})`,
        `tightens prod: network path api → db: open → closed (${where("orchestration.yaml", "  - name: api")})`,
      ],
      ["orchestration.yaml", "    userFacing: true\n", "    userFacing: true\n    exposure: public\n    automountServiceAccountToken: true\n"],
      ["orchestration.yaml", "    dependsOn: [db]\n", ""],
      ["automation.yaml", "    command: [audit, --all]\n", "    command: [audit, --all]\n    dependsOn: [api]\n"],
    );
  });

  it("tasks: a task that now runs as a local command loosens", () => {
    expectLines("dev", (where) => [`loosens dev: task audit runner: k8s-cronjob → local-command (${where("automation.yaml", "runner: local-command")})`], [
      "automation.yaml",
      '        schedule: "30 4 * * 1"\n',
      "        runner: local-command\n        schedule: null\n",
    ]);
  });

  it("pipelines: approvals and policy gates", () => {
    expectLines(
      "prod",
      (where) => [
        `loosens prod: approval of prod reviewer: none → platform-leads (${where("pipelines.yaml", "approval:")})`,
        `loosens prod: policy gate of stage pull-request/preview: on → off (${where("pipelines.yaml", "policyGate: false")})`,
        `tightens prod: approval of prod waitMinutes: 0 → 15 (${where("pipelines.yaml", "approval:")})`,
      ],
      [
        "pipelines.yaml",
        "approval: { required: true, reviewers: [sre-leads] }",
        "approval: { required: true, reviewers: [sre-leads, platform-leads], waitMinutes: 15 }",
      ],
      ["pipelines.yaml", "        type: preview\n", "        type: preview\n        policyGate: false\n"],
    );
    expectLines("dev", (where) => [`tightens dev: approval of dev required: false → true (${where("pipelines.yaml", "reviewers: [qa]")})`], [
      "pipelines.yaml",
      "    stack: dev\n",
      "    stack: dev\n    approval: { required: true, reviewers: [qa] }\n",
    ]);
    expectLines("dev", (where) => [`loosens dev: policy gate of stage pull-request/preview: on → none (${where("pipelines.yaml", "targets: [prod]")})`], [
      "pipelines.yaml",
      "targets: [dev, prod]",
      "targets: [prod]",
    ]);
  });

  it("lists loosenings first and renders each as one Markdown line", () => {
    const { changes, dir } = changesAfter(
      "dev",
      ["security.yaml", "expires: 2026-03-31", "expires: 2026-02-28"],
      ["security.yaml", "ports: [443]", "ports: [443, 80]"],
    );
    expect(changes.map((c) => c.direction)).toEqual(["loosens", "tightens"]);
    const section = securityChangesSection({
      environment: "dev",
      base: { ref: "origin/main", commit: "0123456789abcdef", loaded: true },
      securityChanges: changes,
    });
    expect(section.slice(3, -2)).toEqual([
      "**1 loosens, 1 tightens.** Loosenings do not fail the audit: the reviewers decide, and CODEOWNERS asks the owners of the security registries for that review.",
      "",
      `- 🔓 **loosens** dev: egress rule object-storage port: \`none\` → \`80\` (\`${at(dir, "security.yaml", "ports:")}\`)`,
      `- 🔒 **tightens** dev: exception read-only-root-filesystem for db expires: \`2026-03-31\` → \`2026-02-28\` (\`${at(dir, "security.yaml", "expires:")}\`)`,
    ]);
    const markdown = `<!-- nexus-audit stack=dev -->\n${section.join("\n")}\n**0 mandatory violations**\n`;
    const split = splitSecurityChanges(markdown);
    expect(split.changes).toHaveLength(1);
    expect(split.changes[0]).toMatch(/^### Security changes in `dev`/);
    expect(split.rest).toBe("<!-- nexus-audit stack=dev -->\n**0 mandatory violations**\n");
  });

  it("says in one line why there are no changes when the base does not load", () => {
    const section = securityChangesSection({
      environment: "prod",
      base: { ref: "origin/main", commit: "0123456789abcdef", loaded: false, problem: "the registries at origin/main do not load for prod (1 problem)" },
      securityChanges: [],
    });
    expect(section[3]).toBe("⚠️ the registries at origin/main do not load for prod (1 problem)");
  });
});
