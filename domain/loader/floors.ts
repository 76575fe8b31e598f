/**
 * The production floor (domain/floors.ts) applied to one environment's resolved registries. Each
 * finding is located at the value that goes below the floor, in the file and override it came
 * from, and names the floor so a reviewer can look it up.
 */
import { FLOOR, type FloorName } from "../floors";
import type { PipelinesRegistry, PolicyId } from "../schema";
import type { Registries } from "./checks";
import type { Locator } from "./locator";

/**
 * An environment is production when pipelines.yaml marks it so, or when a complete promotion
 * order ends there: dropping the mark alone does not take production below the floor.
 */
export function isProduction(pipelines: PipelinesRegistry, env: string): boolean {
  const declared = pipelines.environments.find((e) => e.name === env);
  const complete = pipelines.environments.every((e) => pipelines.promotion.includes(e.name));
  return declared?.production === true || (complete && pipelines.promotion[pipelines.promotion.length - 1] === env);
}

const DAY_MS = 86_400_000;

function below(floor: FloorName, what: string): string {
  return `${what}; production floor "${floor}" (domain/floors.ts) cannot be lowered by a registry`;
}

/** Reports every way the registries of `env` go below the production floor. */
export function checkProductionFloor(r: Registries, env: string, at: Locator): void {
  if (!isProduction(r.pipelines, env)) return;
  podSecurity(r, at);
  rbac(r, at);
  egress(r, at);
  policies(r, at);
  deploys(r, env, at);
  runners(r, at);
  taskReads(r, at);
  exceptions(r, env, at);
}

function podSecurity(r: Registries, at: Locator): void {
  const level = r.security.podSecurity.level;
  if (level !== FLOOR.podSecurityLevel) {
    at.report("security", ["podSecurity", "level"], below("pod-security-level", `"${level}" is below "${FLOOR.podSecurityLevel}"`), "below-floor");
  }
}

function rbac(r: Registries, at: Locator): void {
  const forbidden: readonly string[] = FLOOR.forbiddenSubjects;
  const groupForbidden: readonly string[] = FLOOR.groupForbiddenResources;
  r.security.rbac.forEach((binding, b) => {
    binding.subjects.forEach((subject, s) => {
      if (forbidden.includes(subject.name)) {
        at.report(
          "security",
          ["rbac", b, "subjects", s, "name"],
          below("rbac-subjects", `"${subject.name}" stands for every caller and cannot be bound`),
          "below-floor",
        );
      }
    });
    if (!binding.subjects.some((s) => s.kind === "Group")) return;
    binding.rules.forEach((rule, k) => {
      rule.resources.forEach((resource, i) => {
        if (groupForbidden.includes(resource)) {
          at.report(
            "security",
            ["rbac", b, "rules", k, "resources", i],
            below("rbac-group-grants", `a Group may not be granted "${resource}" (one of ${groupForbidden.join(", ")})`),
            "below-floor",
          );
        }
      });
    });
  });
}

function egress(r: Registries, at: Locator): void {
  r.security.network.egress.forEach((rule, e) => {
    rule.cidrs.forEach((cidr, c) => {
      if (Number(cidr.split("/")[1]) === FLOOR.openPrefixLength) {
        at.report("security", ["network", "egress", e, "cidrs", c], below("open-egress", `egress to "${cidr}" opens every destination`), "below-floor");
      }
    });
  });
}

function policies(r: Registries, at: Locator): void {
  const mandatory: readonly PolicyId[] = FLOOR.mandatoryPolicies;
  r.security.policies.forEach((p, i) => {
    if (mandatory.includes(p.id as PolicyId) && p.enforcement !== "mandatory") {
      at.report(
        "security",
        ["policies", i, "enforcement"],
        below("mandatory-policies", `policy "${p.id}" must stay mandatory, got "${p.enforcement}"`),
        "below-floor",
      );
    }
  });
}

function deploys(r: Registries, env: string, at: Locator): void {
  r.pipelines.pipelines.forEach((pipeline, p) => {
    pipeline.stages.forEach((stage, s) => {
      if (stage.type !== "deploy" || !stage.targets.includes(env) || stage.policyGate) return;
      at.report(
        "pipelines",
        ["pipelines", p, "stages", s, "policyGate"],
        below("deploy-gate", `the deploy to "${env}" must run the policy gate`),
        "below-floor",
      );
    });
  });
  const e = r.pipelines.environments.findIndex((x) => x.name === env);
  const approval = r.pipelines.environments[e]?.approval;
  if (approval && (!approval.required || approval.reviewers.length === 0)) {
    at.report(
      "pipelines",
      ["environments", e, "approval", approval.required ? "reviewers" : "required"],
      below("deploy-approval", `deploys to "${env}" need a required approval with at least one reviewer`),
      "below-floor",
    );
  }
}

function runners(r: Registries, at: Locator): void {
  const allowed: readonly string[] = FLOOR.allowedRunners;
  r.automation.tasks.forEach((task, t) => {
    if (task.enabled && !allowed.includes(task.runner)) {
      at.report(
        "automation",
        ["tasks", t, "runner"],
        below(
          "task-runners",
          `runner "${task.runner}" runs outside the cluster with the deployer's credentials; use ${allowed.join(" or ")} or disable the task here`,
        ),
        "below-floor",
      );
    }
  });
}

function taskReads(r: Registries, at: Locator): void {
  const forbidden: readonly string[] = FLOOR.taskForbiddenReads;
  r.automation.tasks.forEach((task, t) => {
    task.clusterAccess?.read.forEach((resource, i) => {
      if (forbidden.includes(resource)) {
        at.report(
          "automation",
          ["tasks", t, "clusterAccess", "read", i],
          below("task-api-reads", `a task may not read "${resource}" through the API: pass it the one credential it needs as a secret instead`),
          "below-floor",
        );
      }
    });
  });
}

function exceptions(r: Registries, env: string, at: Locator): void {
  r.security.exceptions.forEach((x, i) => {
    if (!x.appliesTo.includes(env)) return;
    const days = Math.round((Date.parse(x.expires) - Date.parse(x.granted)) / DAY_MS);
    if (days > FLOOR.exceptionMaxDays) {
      at.report(
        "security",
        ["exceptions", i, "expires"],
        below(
          "exception-lifetime",
          `an exception for "${env}" may last at most ${FLOOR.exceptionMaxDays} days after it was granted (${x.granted}), this one lasts ${days} days`,
        ),
        "below-floor",
      );
    }
  });
}
