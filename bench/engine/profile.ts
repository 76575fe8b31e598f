/**
 * Summarises a V8 CPU profile (`node --cpu-prof`) by where the code lives: each npm package
 * (node_modules/<name> or <@scope/name>), each top-level folder of this project (stacks, components,
 * domain, ...), node's own internals, and V8's pseudo frames (garbage collector, program, idle).
 * Self time only: a sample counts for the function on top of the stack.
 *
 *   npx tsx bench/engine/profile.ts FILE.cpuprofile [...]
 */
import * as fs from "node:fs";
import * as path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Self time per place, largest first. */
  byPlace: { place: string; ms: number; share: number }[];
  /** Self time per function (place: name), largest first, the top 15. */
  topFunctions: { fn: string; ms: number; share: number }[];
}

const ROOT = path.resolve(__dirname, "..", "..");

/** Where a frame's code lives. */
export function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const file = url.startsWith("file://") ? decodeURIComponent(new URL(url).pathname) : url;
  if (file.startsWith("node:")) return "node internals";
  const nm = file.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const parts = file.slice(nm + "/node_modules/".length).split("/");
    return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (file.startsWith(ROOT + path.sep)) return `project ${file.slice(ROOT.length + 1).split(path.sep)[0]}/`;
  return "other";
}

export function summariseProfile(file: string): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const places = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const place = placeOf(url, functionName);
    places.set(place, (places.get(place) ?? 0) + us);
    const fn = `${place}: ${functionName || "(anonymous)"}${url ? ` (${path.basename(url)}:${lineNumber + 1})` : ""}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    total += us;
  }
  const rows = <K extends string>(m: Map<string, number>, key: K) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([k, us]) => ({ [key]: k, ms: us / 1000, share: total > 0 ? us / total : 0 }) as { [P in K]: string } & { ms: number; share: number });
  return { file, totalMs: total / 1000, byPlace: rows(places, "place"), topFunctions: rows(fns, "fn").slice(0, 15) };
}

/**
 * A Markdown table of the places above `minShare` of the busy samples (all but idle, whose share
 * is of the whole profile: the time the program waited, here for the engine).
 */
export function profileTable(s: ProfileSummary, minShare = 0.01): string {
  const idle = s.byPlace.find((r) => r.place === "(idle)")?.ms ?? 0;
  const busy = s.totalMs - idle;
  const lines = [`| where (self time) | ms | share of busy |`, `|---|---:|---:|`];
  let rest = 0;
  for (const r of s.byPlace) {
    if (r.place === "(idle)") continue;
    if (r.ms / busy >= minShare) lines.push(`| ${r.place} | ${r.ms.toFixed(0)} | ${((r.ms / busy) * 100).toFixed(1)} % |`);
    else rest += r.ms;
  }
  if (rest > 0) lines.push(`| (each below ${(minShare * 100).toFixed(0)} %) | ${rest.toFixed(0)} | ${((rest / busy) * 100).toFixed(1)} % |`);
  lines.push(`| **busy** | ${busy.toFixed(0)} | 100 % |`);
  lines.push(`| (idle: waiting) | ${idle.toFixed(0)} | ${((idle / s.totalMs) * 100).toFixed(0)} % of ${s.totalMs.toFixed(0)} ms sampled |`);
  return lines.join("\n");
}

if (require.main === module) {
  for (const file of process.argv.slice(2)) {
    const s = summariseProfile(file);
    console.log(`${file}\n\n${profileTable(s)}\n`);
    for (const f of s.topFunctions) console.log(`  ${f.ms.toFixed(0).padStart(7)} ms ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.fn}`);
    console.log();
  }
}
