/**
 * Who must review a change to the security gate, from the registries. The gate is configured by
 * security.yaml (policy levels, exceptions, RBAC, egress, Pod Security) and pipelines.yaml
 * (approvals, policy gates), enforced by the policy pack and the production floor, and run by
 * the generated workflows. One team owns all of it: the owner of the security audit task that
 * security.yaml names (audit.task). Not the platform team, although it maintains pipelines.yaml:
 * a change there can loosen the gate as much as one in security.yaml, and CODEOWNERS lets any
 * listed owner approve, so listing the author's own team would let it approve its own loosening.
 */
import * as path from "node:path";
import type { Problem } from "../../domain/loader";
import type { Model } from "../../domain/model";
import { REGISTRY_FILES } from "../../domain/schema";

export interface GateOwners {
  /** The owning team's name in orchestration.yaml and its GitHub team, "org/team". */
  readonly team: string;
  readonly githubTeam: string;
  /** Why this team: the audit task it owns, in words, for the generated file's header. */
  readonly because: string;
  /** The registry files this is read from, for the generated file's header. */
  readonly sources: string;
  /** Repository paths ("/" first, folders end in "/") and what each holds. */
  readonly paths: readonly { readonly path: string; readonly what: string }[];
}

/** `team.source` is "FILE:LINE"; a problem needs both apart. */
function problemAt(source: string, path: string, message: string): Problem {
  const at = /^(.*):(\d+)$/.exec(source);
  return { file: at?.[1] ?? source, line: Number(at?.[2] ?? 1), column: 1, path, message, code: "codeowners" };
}

/** The gate's owners for the registries in `registriesDir` (its model: any environment's). */
export function gateOwners(model: Pick<Model, "teams" | "tasks" | "security">, registriesDir: string): { owners?: GateOwners; problems: Problem[] } {
  const folder = path.basename(path.resolve(registriesDir));
  const taskName = model.security.audit.task;
  const task = model.tasks.find((t) => t.name === taskName);
  const team = model.teams.find((t) => t.name === task?.owner);
  // The loader already checks that the task and its owner exist; a model without them has nothing to name.
  if (!task || !team) return { problems: [] };
  const t = model.teams.indexOf(team);
  if (!team.githubTeam) {
    const message =
      `team "${team.name}" owns the security audit task "${task.name}", so .github/CODEOWNERS makes it review the security and pipelines ` +
      `registries: give it githubTeam, its GitHub team as "org/team"`;
    return { problems: [problemAt(team.source, `teams[${t}].githubTeam`, message)] };
  }
  const registry = (key: keyof typeof REGISTRY_FILES) => `/${folder}/${REGISTRY_FILES[key].file}`;
  return {
    problems: [],
    owners: {
      team: team.name,
      githubTeam: team.githubTeam,
      because: `it owns the security audit task ${task.name} that ${folder}/${REGISTRY_FILES.security.file} names (audit.task)`,
      sources: [REGISTRY_FILES.security.file, REGISTRY_FILES.automation.file, REGISTRY_FILES.orchestration.file].map((f) => `${folder}/${f}`).join(", "),
      paths: [
        { path: registry("security"), what: "policy levels, exceptions, RBAC, egress, Pod Security" },
        { path: registry("pipelines"), what: "environments, approvals, policy gates" },
        { path: `/${folder}/schema/`, what: "the registries' JSON Schemas" },
        { path: "/policy/", what: "the policy pack" },
        { path: "/domain/floors.ts", what: "the production floor" },
        { path: "/.github/workflows/", what: "the workflows that run the gate" },
        { path: "/.github/CODEOWNERS", what: "this file" },
      ],
    },
  };
}
