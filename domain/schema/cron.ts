/**
 * Five-field cron schedules, the dialect Kubernetes CronJobs accept. The one parser: the registry
 * validator reports its problems, and the backup alerts ask it how far apart two runs can be.
 * Errors are found here, before a deploy, rather than by a controller that silently never
 * schedules the job.
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

const MACROS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const SHAPE = "minute hour day-of-month month day-of-week";

/** When a schedule fires: the values each field allows. */
export interface CronSchedule {
  /** Ascending. */
  minutes: readonly number[];
  /** Ascending. */
  hours: readonly number[];
  daysOfMonth: ReadonlySet<number>;
  /** 1 is January. */
  months: ReadonlySet<number>;
  /** 0 is Sunday; a 7 in the expression is folded into 0. */
  daysOfWeek: ReadonlySet<number>;
  /**
   * Vixie cron: when both day fields are restricted a day matches either of them ("either"),
   * otherwise it must match both, which is the restricted one alone.
   */
  dayMatch: "either" | "both";
}

function atom(text: string, field: Field): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  if (field.names) {
    const index = field.names.indexOf(text.toLowerCase());
    if (index >= 0) return index + field.min;
  }
  return undefined;
}

/** The values one field allows, or why it is invalid. */
function parseField(text: string, field: Field): Set<number> | string {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const [range, step, extra] = part.split("/");
    if (extra !== undefined || range === undefined || range === "") {
      return `${field.name} field "${text}" is malformed`;
    }
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) {
      return `${field.name} field "${text}" has step "${step}", which must be a positive whole number`;
    }
    let [low, high] = [field.min, field.max];
    if (range !== "*" && range !== "?") {
      const bounds = range.split("-");
      if (bounds.length > 2) return `${field.name} field "${text}" is malformed`;
      const ends = bounds.map((b) => atom(b, field));
      for (let i = 0; i < ends.length; i++) {
        const value = ends[i];
        if (value === undefined || value < field.min || value > field.max) {
          return `${field.name} value "${bounds[i]}" is out of range ${field.min}-${field.max}`;
        }
      }
      if (ends.length === 2 && ends[0]! > ends[1]!) {
        return `${field.name} range "${range}" runs backwards`;
      }
      // "N/step" runs from N to the field's end.
      [low, high] = [ends[0]!, ends.length === 2 ? ends[1]! : step !== undefined ? field.max : ends[0]!];
    }
    for (let v = low; v <= high; v += Number(step ?? 1)) values.add(v);
  }
  return values;
}

/** The schedule an expression describes, or why it is invalid, with how to fix it. */
function parse(expression: string): CronSchedule | string {
  const trimmed = expression.trim();
  if (/^(CRON_TZ|TZ)=/.test(trimmed)) {
    return `time zone prefix "${trimmed.split(/\s+/)[0]}" is not allowed in a schedule: remove it and set the entry's timeZone field instead`;
  }
  if (trimmed.startsWith("@")) {
    const expanded = MACROS[trimmed];
    return expanded !== undefined ? parse(expanded) : `unknown macro "${trimmed}": use one of ${Object.keys(MACROS).join(", ")} or five fields`;
  }
  const fields = trimmed.split(/\s+/).filter((f) => f !== "");
  if (fields.length === 6) {
    return `has 6 fields; a schedule has 5 (${SHAPE}): drop the seconds field`;
  }
  if (fields.length !== 5) {
    return `has ${fields.length} fields; a schedule has 5 (${SHAPE}), e.g. "0 2 * * *"`;
  }
  const sets: Set<number>[] = [];
  for (let i = 0; i < 5; i++) {
    const parsed = parseField(fields[i]!, FIELDS[i]!);
    if (typeof parsed === "string") return `${parsed}; a schedule is "${SHAPE}"`;
    sets.push(parsed);
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (daysOfWeek.delete(7)) daysOfWeek.add(0);
  const wildcard = (field: string) => field.startsWith("*") || field.startsWith("?");
  return {
    minutes: [...minutes].sort((a, b) => a - b),
    hours: [...hours].sort((a, b) => a - b),
    daysOfMonth,
    months,
    daysOfWeek,
    dayMatch: wildcard(fields[2]!) || wildcard(fields[4]!) ? "both" : "either",
  };
}

/** Returns why a cron expression is invalid, with how to fix it, or undefined when it is valid. */
export function cronProblem(expression: string): string | undefined {
  const parsed = parse(expression);
  if (typeof parsed === "string") return parsed;
  if (!runsWithinWalk(parsed)) return "never runs: no calendar day matches its day-of-month, month and day-of-week (such as 31 February); fix the day fields";
  return undefined;
}

/** Whether the schedule runs on any day of four calendar years (every month length and weekday alignment). */
function runsWithinWalk(schedule: CronSchedule): boolean {
  for (let d = 0; d < WALK.days; d++) if (cronRunsOn(schedule, new Date(WALK.start + d * DAY_MS))) return true;
  return false;
}

/** The schedule of a cron expression; throws with the problem when the expression is invalid. */
export function parseCron(expression: string): CronSchedule {
  const parsed = parse(expression);
  if (typeof parsed === "string") throw new Error(`invalid cron schedule "${expression}": ${parsed}`);
  return parsed;
}

/** Whether the schedule runs at all on a (UTC) calendar day. */
export function cronRunsOn(schedule: CronSchedule, day: Date): boolean {
  if (!schedule.months.has(day.getUTCMonth() + 1)) return false;
  const dom = schedule.daysOfMonth.has(day.getUTCDate());
  const dow = schedule.daysOfWeek.has(day.getUTCDay());
  return schedule.dayMatch === "either" ? dom || dow : dom && dow;
}

const DAY_MS = 86_400_000;
/** Four calendar years from a leap year: every month length and weekday alignment occurs. */
const WALK = { start: Date.UTC(2024, 0, 1), days: 4 * 365 + 1 } as const;

/**
 * The longest gap between two runs of a cron schedule, in seconds. Found by walking four
 * calendar years, so month lengths, leap days and the day-of-month/day-of-week "or" count as
 * the CronJob controller counts them; time zones shift runs, not gaps.
 */
export function longestCronIntervalSeconds(expression: string): number {
  const schedule = parseCron(expression);
  let previous: number | undefined;
  let longest = 0;
  for (let d = 0; d < WALK.days; d++) {
    if (!cronRunsOn(schedule, new Date(WALK.start + d * DAY_MS))) continue;
    for (const h of schedule.hours) {
      for (const m of schedule.minutes) {
        const minute = d * 1440 + h * 60 + m;
        if (previous !== undefined) longest = Math.max(longest, minute - previous);
        previous = minute;
      }
    }
  }
  // A schedule running at most once in four years (29 February): the walk is the best bound.
  return (longest > 0 ? longest : WALK.days * 1440) * 60;
}
