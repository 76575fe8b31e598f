import { LABEL } from "../../contract/labels";
import type { PolicyResource, ReportViolation, ResourceValidationArgs } from "@pulumi/policy";
import { today, type BaseConfig, type ExceptionConfig } from "./config";
import { UNKNOWN, asString, known, path, stringMap, type Props } from "./props";

/** The label every resource carries with its registry entry name (components/labels.ts). */
const NAME_LABEL = LABEL.name;

/** A resource a violation is about, as exceptions name it. */
export interface Subject {
  /** Names an exception may use: registry entry (name label or tag), object name, Pulumi name. */
  names: string[];
  /** URN to attribute the violation to (stack policies); omitted for the resource being validated. */
  urn?: string;
}

/** Every name a resource answers to: its name label or tag, Kubernetes or bucket name, Pulumi name. */
export function subjectNames(pulumiName: string, props: Props): string[] {
  const read = (f: () => unknown): string | undefined => {
    const v = known(f);
    return v === UNKNOWN ? undefined : asString(v);
  };
  const names = [
    read(() => stringMap(path(props, "metadata", "labels"))[NAME_LABEL]),
    read(() => stringMap(props.tags)[NAME_LABEL]),
    read(() => path(props, "metadata", "name")),
    read(() => props.bucket),
    read(() => props.name),
    pulumiName,
  ];
  return [...new Set(names.filter((n): n is string => typeof n === "string" && n.length > 0))];
}

export function subjectOf(resource: Pick<PolicyResource, "name" | "props" | "urn">): Subject {
  return { names: subjectNames(resource.name, resource.props), urn: resource.urn };
}

export type Verdict = { kind: "none" } | { kind: "active"; exception: ExceptionConfig } | { kind: "expired"; exception: ExceptionConfig };

/**
 * Whether an exception covers a subject on a day: an exception applies up to and including its
 * `expires` day. When several match, an active one wins, else the one that expired last is named.
 */
export function judge(exceptions: readonly ExceptionConfig[], names: readonly string[], day: string): Verdict {
  const matching = exceptions.filter((e) => names.includes(e.resource));
  const active = matching.find((e) => e.expires >= day);
  if (active) return { kind: "active", exception: active };
  const expired = [...matching].sort((a, b) => b.expires.localeCompare(a.expires))[0];
  return expired ? { kind: "expired", exception: expired } : { kind: "none" };
}

export function expiredNote(e: ExceptionConfig): string {
  return `exception for ${e.resource} by ${e.owner} expired on ${e.expires}: fix the resource, or renew the exception with a new expiry in registries/security.yaml`;
}

/** Reports a violation unless an active exception covers its subject. */
export type Report = (message: string, subject?: Subject) => void;

/**
 * Wraps the server's `reportViolation` with the policy's exceptions. Every policy of the pack
 * reports through this, so an exception works the same way everywhere: an active one silences the
 * violation, an expired one does not and the message says so.
 */
export function reporter(config: BaseConfig, reportViolation: ReportViolation, defaultSubject?: Subject): Report {
  const exceptions = Array.isArray(config.exceptions) ? config.exceptions : [];
  const day = today(config);
  return (message, subject = defaultSubject) => {
    const verdict = judge(exceptions, subject?.names ?? [], day);
    if (verdict.kind === "active") return;
    const text = verdict.kind === "expired" ? `${message} (${expiredNote(verdict.exception)})` : message;
    if (subject?.urn !== undefined) reportViolation(text, subject.urn);
    else reportViolation(text);
  };
}

/** The reporter of a resource policy: violations are about the resource being validated. */
export function resourceReporter(args: ResourceValidationArgs, reportViolation: ReportViolation): Report {
  return reporter(args.getConfig<BaseConfig>(), reportViolation, { names: subjectNames(args.name, args.props) });
}
