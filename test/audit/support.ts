/**
 * Shared builders of the audit tests: the report's violations as the bad-registries cases state
 * them, the CLI run as CI runs it, variants of an evaluated program, and the resources,
 * diagnostics and exceptions the report's sections are built from.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import type { EvaluatedProgram, ProgramResource } from "../../cmd/audit/evaluate";
import { REPORT_SCHEMA, type ComplianceReport, type ReportException, type ReportResource } from "../../cmd/audit/schema";
import type { Judgement, ReportedException } from "../../cmd/audit/verdicts";
import { ANNOTATION } from "../../contract/labels";
import { K8S } from "../../contract/types";
import type { Model } from "../../domain/model";
import type { Diagnostic, EnforcementLevel } from "../../internal/pulumi/analyzer";
import { TODAY, type ExpectedViolation } from "../policy/bad-registries/cases";
import type { KubernetesInputs } from "../support/inputs";
import { ROOT } from "../support/registries";

export { TODAY };

/** A report's violations as the cases state them, in a stable order. */
export function violationsOf(report: ComplianceReport): ExpectedViolation[] {
  return sortViolations(
    report.violations.map((v) => ({
      policy: v.policy,
      enforcement: v.enforcement as ExpectedViolation["enforcement"],
      resource: v.name ?? "(stack)",
      message: v.message,
    })),
  );
}

export function sortViolations(list: readonly ExpectedViolation[]): ExpectedViolation[] {
  const k = (v: ExpectedViolation) => `${v.policy}\n${v.resource}\n${v.enforcement}\n${v.message}`;
  return [...list].sort((a, b) => k(a).localeCompare(k(b)));
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a pull request from a fork: no cloud credentials, no Pulumi token, no
 * kubeconfig, and only node on PATH (so no pulumi CLI).
 */
export function bareEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|PULUMI_|KUBE|GOOGLE_|AZURE_|ARM_)/.test(k)) continue;
    env[k] = v;
  }
  env.PATH = path.dirname(process.execPath);
  env.KUBECONFIG = path.join(ROOT, "does-not-exist", "kubeconfig");
  return env;
}

/** `node bin/nexus.js ARGS` from the project folder, as CI runs it, in bareEnv(). */
export function nexus(args: readonly string[], timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "nexus.js"), ...args], { cwd: ROOT, env: bareEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`nexus ${args.join(" ")} did not finish within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A registry FILE:LINE, in the file named (any registry unless told). */
export function registryLine(file = "[a-z]+"): RegExp {
  return new RegExp(`^registries/${file}\\.yaml:\\d+$`);
}

/** How many policies a model enables and disables in its environment, as the report counts them. */
export function policyCounts(model: Model): { policies: number; disabledPolicies: number } {
  const levels = Object.values(model.security.enforcement);
  return { policies: levels.filter((l) => l !== "disabled").length, disabledPolicies: levels.filter((l) => l === "disabled").length };
}

// ---------------------------------------------------------------------------------------------
// Variants of an evaluated program: faults the registries cannot express, injected into its resources.

/** The one resource of a type (or of one of the generations of a type) and name. */
export function one(resources: readonly ProgramResource[], type: string | readonly string[], name: string): ProgramResource {
  const types: readonly string[] = typeof type === "string" ? [type] : type;
  const found = resources.filter((r) => types.includes(r.type) && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${types.join(" or ")} ${name}, found ${found.length}`);
  return found[0]!;
}

/** Props as `change` sees them: the Kubernetes object for a Kubernetes type, else plain JSON. */
type PropsOf<T extends string> = T extends keyof KubernetesInputs ? KubernetesInputs[T] : Record<string, unknown>;

/** The program's resources with one changed by `change` (on a deep copy of its props). */
export function changed<T extends string>(program: EvaluatedProgram, type: T, name: string, change: (props: PropsOf<T>) => void): ProgramResource[] {
  const target = one(program.resources, type, name);
  return program.resources.map((r) => {
    if (r !== target) return r;
    const props = JSON.parse(JSON.stringify(r.props));
    change(props);
    return { ...r, props };
  });
}

/** The program with the frontend Deployment's container privileged (and its root writable, if asked). */
export function privilegedFrontend(program: EvaluatedProgram, writableRoot = false): ProgramResource[] {
  return changed(program, K8S.Deployment, "frontend-deployment", (p) => {
    const securityContext = p.spec.template.spec.containers[0]!.securityContext;
    securityContext.privileged = true;
    if (writableRoot) securityContext.readOnlyRootFilesystem = false;
  });
}

// ---------------------------------------------------------------------------------------------
// Builders for the report's sections: resources, diagnostics and exceptions with plain defaults;
// a test sets only the fields it is about.

export const UNIT_STACK = "urn:pulumi:test::nexus-platform::";

/** A URN as the engine writes it: the parent's type chain, then the type and name. */
export function urnOf(type: string, name: string, parentTypes: readonly string[] = []): string {
  return `${UNIT_STACK}${[...parentTypes, type].join("$")}::${name}`;
}

/** A custom resource with no props; overrides set its parent, props or kind. */
export function resource(type: string, name: string, overrides: Partial<ProgramResource> = {}): ProgramResource {
  return { urn: urnOf(type, name), type, name, props: {}, custom: true, ...overrides };
}

/** A Kubernetes object named `name` with the registry source annotation the program writes. */
export function kubeObject(type: string, name: string, source: string, overrides: Partial<ProgramResource> = {}): ProgramResource {
  return resource(type, name, { props: { metadata: { name, annotations: { [ANNOTATION.source]: source } } }, ...overrides });
}

/** A violation as the policy server reports it: the policy's description, a newline, then `text`. */
export function diagnostic(policyName: string, urn: string | undefined, text: string, overrides: Partial<Diagnostic> = {}): Diagnostic {
  const description = `Checks whether ${policyName} holds`;
  return {
    policyName,
    policyPackName: "nexus-platform",
    policyPackVersion: "0.0.0",
    description,
    message: `${description}\n${text}`,
    enforcementLevel: "mandatory",
    ...(urn ? { urn } : {}),
    phase: "resource",
    ...overrides,
  };
}

/** A registry exception for `resource`, in force on TODAY unless `expires` says otherwise. */
export function registryException(overrides: Partial<ReportedException> = {}): ReportedException {
  return {
    policy: "read-only-root-filesystem",
    resource: "db",
    owner: "data",
    reason: "The image writes its socket outside the data volume",
    expires: "2027-01-31",
    source: "registries/security.yaml:40",
    ...overrides,
  };
}

/** What the pack said about `resources`: nothing unless told, every policy mandatory unless `levels` names it. */
export function judgement(
  resources: readonly ProgramResource[],
  overrides: Partial<Omit<Judgement, "resources" | "levelOf">> & { levels?: Record<string, EnforcementLevel> } = {},
): Judgement {
  const { levels = {}, ...rest } = overrides;
  return {
    today: TODAY,
    resources,
    levelOf: (policy) => levels[policy] ?? "mandatory",
    evaluation: { diagnostics: [], notApplicable: [] },
    silenced: [],
    exceptionFor: () => undefined,
    ...rest,
  };
}

/** The verdict on a Deployment whose container runs privileged. */
export const PRIVILEGED: ReportResource["verdicts"][number] = {
  policy: "no-privileged-containers",
  verdict: "violation",
  enforcement: "mandatory",
  message: "privileged",
};

/** The `api` Deployment as a report lists it: a privileged container, one mandatory violation unless `verdicts` says otherwise. */
export function apiResource(verdicts: ReportResource["verdicts"] = [PRIVILEGED]): ReportResource {
  return {
    urn: urnOf(K8S.Deployment, "api"),
    type: K8S.Deployment,
    name: "api",
    parent: "",
    custom: true,
    source: "registries/orchestration.yaml:10",
    sourceFrom: "annotation",
    verdicts,
  };
}

/** A passing report of an empty dev stack; a test sets the sections it renders. */
export function complianceReport(overrides: Partial<ComplianceReport> = {}): ComplianceReport {
  return {
    schema: REPORT_SCHEMA,
    project: "nexus-platform",
    stack: "dev",
    environment: "dev",
    today: TODAY,
    registries: "registries",
    pack: { name: "nexus-platform", version: "0.0.0" },
    passed: true,
    summary: { mandatory: 0, advisory: 0, excepted: 0, resources: 0, policies: 0, disabledPolicies: 0, exceptions: 0, expiredExceptions: 0 },
    policies: [],
    exceptions: [],
    backups: [],
    violations: [],
    resources: [],
    ...overrides,
  };
}

/** An exception row of a report: in force for 30 more days and silencing nothing, unless told. */
export function exceptionReported(overrides: Partial<ReportException> = {}): ReportException {
  const { policy, resource, owner, reason, expires, source } = registryException();
  return {
    policy,
    resource,
    owner,
    reason,
    expires,
    source,
    status: "in-force",
    daysLeft: 30,
    enforcement: "mandatory",
    silences: [],
    expiredFor: [],
    ...overrides,
  };
}
