import type { GeneratedFile } from "../adapter";
import type { GateOwners } from "../owners";
import { GENERATED_MARKER } from "./syntax";

export const CODEOWNERS_PATH = ".github/CODEOWNERS";

/** A path as CODEOWNERS reads it: a space or "#" would end the pattern or start a comment. */
const pattern = (p: string) => p.replace(/[\s#\\]/g, (c) => `\\${c}`);

/** A paragraph as comment lines of at most `width` characters where words allow; a line break in registry text becomes a space. */
function comments(text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = "#";
  // A code span stays on one line: its words are one word here.
  for (const word of text.replace(/[\u0085\u2028\u2029]/g, " ").match(/\S*`[^`]*`\S*|\S+/g) ?? []) {
    if (line !== "#" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = "#";
    }
    line += ` ${word}`;
  }
  return [...lines, line];
}

/**
 * .github/CODEOWNERS: the security gate's files need the review of the team that owns it
 * (cmd/ci/owners.ts). Nothing else gets an owner here, so every other file keeps the review
 * rules of the branch protection alone.
 */
export function codeownersFile(owners: GateOwners): GeneratedFile {
  const lines = [
    ...comments(
      `${GENERATED_MARKER} from ${owners.sources} — do not edit. Change the registries and run it again; ` +
        "`npx nexus ci generate --check` fails when this file differs from what they give.",
    ),
    "#",
    ...comments(
      `The files that set or enforce the security gate need the review of team ${owners.team} (${owners.githubTeam}): ${owners.because}. ` +
        "Each stack's pull-request comment lists what a change loosens (`nexus check --base`); this review decides whether it may. " +
        "GitHub reads this file from the base branch, so a change to it needs the same review. Enforced once the branch protection " +
        "of the default branch requires review from Code Owners.",
    ),
    "",
    // A comment of its own line: GitHub documents comments only at the start of a line.
    ...owners.paths.flatMap((p) => [...comments(`${p.what[0]!.toUpperCase()}${p.what.slice(1)}:`), `${pattern(p.path)} @${owners.githubTeam}`]),
  ];
  return { path: CODEOWNERS_PATH, content: `${lines.join("\n")}\n` };
}
