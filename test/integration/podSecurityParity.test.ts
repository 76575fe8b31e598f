/**
 * The pack's Pod Security policies against the API server's own PodSecurity admission. Every
 * workload of the policy table's fixtures is created, as a Pod made of its pod template, with
 * `kubectl create --dry-run=server` in a namespace that enforces "restricted" (v1.35), and the
 * pack must reject exactly the pods the API server forbids, fixture by fixture.
 *
 * Only the Pod Security policies (podSecurityPolicies in policy/policies/workloads.ts) make the
 * pack's verdict. The other workload policies are this platform's own rules or CIS hardening
 * beyond the standard (read-only root filesystem, resources, probes, image registries and tags,
 * service accounts, token mounts, literal secrets): the admission does not judge them, so they
 * are disabled here, and the list below names each of them so a new policy must be placed.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { violationText } from "../../internal/pulumi/analyzer";
import { WORKLOAD_TYPES, podTemplate } from "../../policy/lib/kube";
import { policies } from "../../policy/policies";
import { podSecurityPolicies, workloadPolicies } from "../../policy/policies/workloads";
import { FIXTURES, TODAY, type FixtureName } from "../policy/fixtures";
import { evaluatePack, type Fixture, type FixtureResource } from "../policy/support";
import { KUBECONFIG, ROOT, explain, type Result } from "./support";

/** Workload policies outside the Pod Security Standards, left out of the comparison. */
const NOT_POD_SECURITY = [
  "read-only-root-filesystem",
  "resources-required",
  "probes-required",
  "allowed-image-registries",
  "pinned-image-tags",
  "no-default-service-account",
  "token-automount-declared",
  "no-literal-secret-env",
];

/** Fixtures that cannot be created as a Pod at all, so the admission never sees them. */
const NOT_CREATABLE: Record<string, string> = {
  "pod-ephemeral-privileged": "ephemeral containers are added through the pods/ephemeralcontainers subresource, never on create",
};

const POD_SECURITY = podSecurityPolicies.map((p) => p.name);

/** The pack with only the Pod Security policies, all mandatory. */
const CONFIG = Object.fromEntries(
  policies.map((p) => [p.name, POD_SECURITY.includes(p.name) ? { enforcementLevel: "mandatory" as const, today: TODAY } : ("disabled" as const)]),
);

const NAMESPACE = `pss-parity-${process.pid}`;
/** The version the pack implements, pinned so a newer API server does not change the standard under it. */
const VERSION = "v1.35";

interface Case {
  /** `fixture` or `fixture/resource` for fixtures of several resources. */
  title: string;
  resource: FixtureResource;
  pod: Record<string, unknown>;
}

function podName(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
}

/** The Pod a workload runs: its pod template's labels, annotations and spec, in the test namespace. */
function asPod(title: string, resource: FixtureResource): Record<string, unknown> {
  const template = podTemplate(resource.type, resource.props);
  if (!template) throw new Error(`${title}: ${resource.type} has no pod template`);
  const { labels, annotations } = template.metadata;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: podName(title), namespace: NAMESPACE, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) },
    spec: template.spec,
  };
}

/** The literal-secret detector's fixtures: pods of deployment-restricted with other env values, which Pod Security does not read. */
const ENV_ONLY: readonly FixtureName[] = ["deployment-literal-secret-names", "deployment-secret-look-alikes"];

const ALL_FIXTURES: Record<string, Fixture> = Object.fromEntries(Object.entries(FIXTURES).filter(([name]) => !ENV_ONLY.includes(name as FixtureName)));

const CASES: Case[] = Object.entries(ALL_FIXTURES)
  .filter(([name]) => !(name in NOT_CREATABLE))
  .flatMap(([name, fixture]) => {
    const workloads = (Array.isArray(fixture) ? fixture : [fixture]).filter((r) => WORKLOAD_TYPES.includes(r.type));
    return workloads.map((resource) => {
      const title = Array.isArray(fixture) ? `${name}/${resource.name}` : name;
      return { title, resource, pod: asPod(title, resource) };
    });
  });

function kubectl(args: readonly string[], input?: string): Result {
  const r = spawnSync(path.join(ROOT, ".tools", "bin", "kubectl"), args, {
    input,
    encoding: "utf8",
    env: { ...process.env, KUBECONFIG },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function mustKubectl(args: readonly string[], input?: string): void {
  const r = kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed:\n${explain(r)}`);
}

type Verdict = "accepted" | "forbidden";

/** The admission's reason for each control (policy/check_*.go of pod-security-admission), by the pack policy that checks it. */
const REASONS: Record<string, string> = {
  privileged: "no-privileged-containers",
  "host namespaces": "no-host-namespaces",
  hostPort: "no-host-ports",
  "probe or lifecycle host": "no-host-probes-and-hooks",
  hostProcess: "no-windows-host-process",
  procMount: "default-proc-mount",
  "forbidden sysctls": "safe-sysctls-only",
  seLinuxOptions: "selinux-allowed-options",
  "forbidden AppArmor profile": "apparmor-allowed-profiles",
  "forbidden AppArmor profiles": "apparmor-allowed-profiles",
  "runAsNonRoot != true": "run-as-non-root",
  "runAsUser=0": "run-as-non-root",
  "allowPrivilegeEscalation != false": "no-privilege-escalation",
  "unrestricted capabilities": "drop-all-capabilities",
  "non-default capabilities": "drop-all-capabilities",
  seccompProfile: "seccomp-runtime-default",
};

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The pack policies that answer the admission's reasons, e.g. `hostPort (container "api" uses hostPort 9100), ...`. */
function controlsOf(reasons: string): string[] {
  const ids = Object.entries(REASONS)
    .filter(([reason]) => new RegExp(`(^|, )${escape(reason)}( \\(|, |$)`).test(reasons))
    .map(([, id]) => id);
  // One admission check covers hostPath and the other volume types; the pack splits them.
  const volumes = /restricted volume types \(.*? uses? restricted volume types? ((?:"[^"]*"(?:, )?)+)\)/.exec(reasons);
  if (volumes) {
    const types = [...volumes[1]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    if (types.includes("hostPath")) ids.push("no-host-path-volumes");
    if (types.some((t) => t !== "hostPath")) ids.push("restricted-volume-types");
  }
  return [...new Set(ids)].sort();
}

/** The admission's verdict on a Pod, with its reasons; any other refusal means the fixture is not a valid Pod. */
function admission(pod: Record<string, unknown>): { verdict: Verdict; reasons: string } {
  const r = kubectl(["create", "--dry-run=server", "-o", "name", "-f", "-"], JSON.stringify(pod));
  if (r.code === 0) return { verdict: "accepted", reasons: "" };
  const violation = /violates PodSecurity "[^"]+": (.*)$/m.exec(r.stderr);
  if (violation) return { verdict: "forbidden", reasons: violation[1]! };
  throw new Error(`the API server refused the pod for a reason other than Pod Security (is the fixture a valid Pod?):\n${explain(r)}`);
}

async function pack(resource: FixtureResource): Promise<{ verdict: Verdict; messages: string[]; controls: string[] }> {
  const diagnostics = (await evaluatePack(resource, CONFIG)).diagnostics.filter((d) => d.enforcementLevel === "mandatory");
  const messages = diagnostics.map(violationText);
  const controls = [...new Set(diagnostics.map((d) => d.policyName))].sort();
  return { verdict: messages.length > 0 ? "forbidden" : "accepted", messages, controls };
}

describe("Pod Security parity with the API server's admission", () => {
  const seen: Record<Verdict, number> = { accepted: 0, forbidden: 0 };

  beforeAll(() => {
    const namespace = {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: NAMESPACE,
        labels: { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": VERSION },
      },
    };
    mustKubectl(["create", "-f", "-"], JSON.stringify(namespace));
    // The ServiceAccount admission refuses pods whose ServiceAccount does not exist.
    const accounts = new Set(CASES.map((c) => (c.pod.spec as { serviceAccountName?: string }).serviceAccountName ?? "default"));
    for (const name of accounts) {
      const r = kubectl(["create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: NAMESPACE } }));
      // The controller manager may have created "default" already.
      if (r.code !== 0 && !/AlreadyExists/.test(r.stderr)) throw new Error(`creating ServiceAccount ${name} failed:\n${explain(r)}`);
    }
  });

  afterAll(() => {
    kubectl(["delete", "namespace", NAMESPACE, "--wait=false", "--ignore-not-found"]);
  });

  it("compares exactly the Pod Security policies, and places every other workload policy", () => {
    expect([...POD_SECURITY, ...NOT_POD_SECURITY].sort()).toEqual(workloadPolicies.map((p) => p.name).sort());
    for (const name of Object.keys(NOT_CREATABLE)) expect(ALL_FIXTURES, name).toHaveProperty([name]);
    const answered = new Set([...Object.values(REASONS), "no-host-path-volumes", "restricted-volume-types"]);
    expect([...answered].sort()).toEqual([...POD_SECURITY].sort());
  });

  it.each(CASES.map((c) => [c.title, c] as const))("%s: the pack and the admission agree", async (_title, c) => {
    const server = admission(c.pod);
    const ours = await pack(c.resource);
    seen[server.verdict] += 1;
    const why = `API server: ${server.verdict}${server.reasons ? ` (${server.reasons})` : ""}\npack: ${ours.verdict}${ours.messages.map((m) => `\n  ${m}`).join("")}`;
    expect(ours.verdict, why).toBe(server.verdict);
    // Control by control too, so one right finding cannot hide a wrong or missing one.
    // The API defaults hostPort to containerPort on hostNetwork pods before admission; the pack
    // judges the declared pod, where no-host-namespaces already reports hostNetwork.
    const defaultedHostPorts = (c.pod.spec as { hostNetwork?: boolean }).hostNetwork === true && !ours.controls.includes("no-host-ports");
    const expected = controlsOf(server.reasons).filter((id) => !(defaultedHostPorts && id === "no-host-ports"));
    expect(ours.controls, why).toEqual(expected);
  });

  it("saw pods admitted and pods forbidden", () => {
    expect(seen.accepted).toBeGreaterThanOrEqual(10);
    expect(seen.forbidden).toBeGreaterThanOrEqual(15);
  });
});
