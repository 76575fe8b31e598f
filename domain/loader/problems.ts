export type PathSegment = string | number;

/** One located finding. Every problem names where it is and how to fix it. */
export interface Problem {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
  code: string;
}

export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out === "" ? "(root)" : out;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`;
}

export function sortProblems(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = formatProblem(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.message.localeCompare(b.message));
}

/** Thrown by the program entry when the registries are invalid; carries every problem. */
export class RegistryError extends Error {
  constructor(public readonly problems: readonly Problem[]) {
    super(
      `the registries have ${problems.length} problem(s); nothing was deployed. Fix them and run again ` +
        `(check quickly with \`npx nexus validate\`):\n` +
        problems.map(formatProblem).join("\n"),
    );
    this.name = "RegistryError";
  }
}
