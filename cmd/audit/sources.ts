/**
 * The registry FILE:LINE of every resource of the report. Kubernetes objects carry it as an
 * annotation and taggable AWS resources as a tag (components/labels.ts); the others take it from
 * their descendants, their registry entry or their nearest ancestor.
 */
import * as pulumi from "@pulumi/pulumi";
import { ANNOTATION } from "../../contract/labels";
import { WIRE } from "../../internal/pulumi/sdk";
import type { Sourced } from "../../domain/model";
import type { ProgramResource } from "./evaluate";
import type { ReportResource } from "./schema";

export interface Source {
  source: string;
  from: Exclude<ReportResource["sourceFrom"], null>;
}

/** A registry entry a component may be named after (a service or a task). */
export type NamedEntry = Sourced & { readonly name: string };

/** Props without the secret wrapping of the wire format, as a policy reads them. */
export function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (WIRE.sigKey in obj) return plain(obj.value);
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function stringAt(value: unknown, ...keys: string[]): string | undefined {
  let at: unknown = value;
  for (const k of keys) {
    if (at === null || typeof at !== "object" || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[k];
  }
  return typeof at === "string" && at.length > 0 ? at : undefined;
}

/** The source a resource carries itself: its annotation (Kubernetes), else its tag (AWS). */
export function ownSource(r: ProgramResource): Source | undefined {
  const props = plain(r.props);
  const annotation = stringAt(props, "metadata", "annotations", ANNOTATION.source);
  if (annotation) return { source: annotation, from: "annotation" };
  const tag = stringAt(props, "tags", ANNOTATION.source);
  if (tag) return { source: tag, from: "tag" };
  return undefined;
}

/**
 * `known` plus a source for every component: the one its descendants agree on, else the registry
 * entry of the same name. The stack spans every entry, so it gets none.
 */
export function withComponentSources(
  resources: readonly ProgramResource[],
  known: ReadonlyMap<string, Source>,
  entries: readonly NamedEntry[],
): Map<string, Source> {
  const out = new Map(known);
  const children = new Map<string, ProgramResource[]>();
  for (const r of resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const descendantSources = (urn: string, seen = new Set<string>()): Set<string> => {
    const found = new Set<string>();
    if (seen.has(urn)) return found;
    seen.add(urn);
    for (const c of children.get(urn) ?? []) {
      const own = out.get(c.urn);
      if (own) found.add(own.source);
      else for (const s of descendantSources(c.urn, seen)) found.add(s);
    }
    return found;
  };
  const byName = new Map(entries.map((e) => [e.name, e.source]));
  for (const r of resources) {
    if (r.custom || out.has(r.urn) || r.type === pulumi.runtime.rootPulumiStackTypeName) continue;
    const found = descendantSources(r.urn);
    if (found.size === 1) out.set(r.urn, { source: [...found][0]!, from: "children" });
    else if (byName.has(r.name)) out.set(r.urn, { source: byName.get(r.name)!, from: "model" });
  }
  return out;
}

/** `known` plus, for every resource without a source of its own (S3 bucket settings, local commands), its nearest ancestor's. */
export function withInheritedSources(resources: readonly ProgramResource[], known: ReadonlyMap<string, Source>): Map<string, Source> {
  const out = new Map(known);
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  for (const r of resources) {
    if (out.has(r.urn) || !r.custom) continue;
    for (let at = r.parent ? byUrn.get(r.parent) : undefined; at; at = at.parent ? byUrn.get(at.parent) : undefined) {
      const found = out.get(at.urn);
      if (found) {
        out.set(r.urn, { source: found.source, from: "parent" });
        break;
      }
    }
  }
  return out;
}

/** Every resource's registry source, by URN (see the functions above for where each is read). */
export function resourceSources(resources: readonly ProgramResource[], entries: readonly NamedEntry[]): Map<string, Source> {
  const own = new Map<string, Source>();
  for (const r of resources) {
    const found = ownSource(r);
    if (found) own.set(r.urn, found);
  }
  return withInheritedSources(resources, withComponentSources(resources, own, entries));
}
