/**
 * Five-field cron validation, the dialect Kubernetes CronJobs accept. Errors are found here,
 * before a deploy, rather than by a controller that silently never schedules the job.
 */

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  // 7 is Sunday too, as in Vixie cron and Kubernetes.
  { name: "day of week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

const MACROS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);

function atom(text: string, field: Field): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  if (field.names) {
    const index = field.names.indexOf(text.toLowerCase());
    if (index >= 0) return index + field.min;
  }
  return undefined;
}

function fieldProblem(text: string, field: Field): string | undefined {
  for (const part of text.split(",")) {
    const [range, step, extra] = part.split("/");
    if (extra !== undefined || range === undefined || range === "") {
      return `${field.name} field "${text}" is malformed`;
    }
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) {
      return `${field.name} field "${text}" has step "${step}", which must be a positive whole number`;
    }
    if (range === "*" || range === "?") continue;
    const bounds = range.split("-");
    if (bounds.length > 2) return `${field.name} field "${text}" is malformed`;
    const values = bounds.map((b) => atom(b, field));
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value === undefined || value < field.min || value > field.max) {
        return `${field.name} value "${bounds[i]}" is out of range ${field.min}-${field.max}`;
      }
    }
    if (values.length === 2 && values[0]! > values[1]!) {
      return `${field.name} range "${range}" runs backwards`;
    }
  }
  return undefined;
}

/** Returns why a cron expression is invalid, with how to fix it, or undefined when it is valid. */
export function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (/^(CRON_TZ|TZ)=/.test(trimmed)) {
    return `time zone prefix "${trimmed.split(/\s+/)[0]}" is not allowed in a schedule: remove it and set the entry's timeZone field instead`;
  }
  if (trimmed.startsWith("@")) {
    return MACROS.has(trimmed) ? undefined : `unknown macro "${trimmed}": use one of ${[...MACROS].join(", ")} or five fields`;
  }
  const fields = trimmed.split(/\s+/).filter((f) => f !== "");
  if (fields.length === 6) {
    return `has 6 fields; a schedule has 5 (minute hour day-of-month month day-of-week): drop the seconds field`;
  }
  if (fields.length !== 5) {
    return `has ${fields.length} fields; a schedule has 5 (minute hour day-of-month month day-of-week), e.g. "0 2 * * *"`;
  }
  for (let i = 0; i < 5; i++) {
    const problem = fieldProblem(fields[i]!, FIELDS[i]!);
    if (problem) return `${problem}; a schedule is "minute hour day-of-month month day-of-week"`;
  }
  return undefined;
}
