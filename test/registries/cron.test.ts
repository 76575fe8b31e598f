import { describe, expect, it } from "vitest";
import { cronProblem, cronRunsOn, longestCronIntervalSeconds, parseCron } from "../../domain/schema/cron";

describe("cronProblem", () => {
  it.each(["0 2 * * *", "*/15 * * * *", "0 0 1 jan-jun MON-fri", "5/10 * ? * *", "0 0 * * 7", "@daily", " 0 2 * * * "])("accepts %s", (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
  });

  it.each([
    ["0 2 * *", /has 4 fields; a schedule has 5/],
    ["0 0 2 * * *", /has 6 fields.*drop the seconds field/],
    ["60 * * * *", /minute value "60" is out of range 0-59/],
    ["0 0 * * 8", /day of week value "8" is out of range 0-7/],
    ["0 5-1 * * *", /hour range "5-1" runs backwards/],
    ["*/0 * * * *", /step "0", which must be a positive whole number/],
    ["1/2/3 * * * *", /minute field "1\/2\/3" is malformed/],
    ["@often", /unknown macro "@often": use one of @yearly/],
    ["CRON_TZ=UTC 0 2 * * *", /time zone prefix "CRON_TZ=UTC" is not allowed/],
  ])("rejects %s", (expression, problem) => {
    expect(cronProblem(expression)).toMatch(problem);
  });
});

describe("parseCron", () => {
  it("expands every field into the values it allows", () => {
    expect(parseCron("*/20 1,13 1-3 jan,jul 5/1")).toEqual({
      minutes: [0, 20, 40],
      hours: [1, 13],
      daysOfMonth: new Set([1, 2, 3]),
      months: new Set([1, 7]),
      daysOfWeek: new Set([5, 6, 0]),
      dayMatch: "either",
    });
  });

  it("expands macros and matches days on both fields unless both are restricted", () => {
    expect(parseCron("@weekly")).toMatchObject({ minutes: [0], hours: [0], daysOfWeek: new Set([0]), dayMatch: "both" });
    expect(parseCron("0 0 ? * mon").dayMatch).toBe("both");
    expect(parseCron("0 0 13 * fri").dayMatch).toBe("either");
  });

  it("throws with the validator's problem", () => {
    expect(() => parseCron("0 25 * * *")).toThrow('invalid cron schedule "0 25 * * *": hour value "25" is out of range 0-23');
  });
});

describe("cronRunsOn", () => {
  it("runs on a day matching either restricted day field", () => {
    const schedule = parseCron("0 0 13 * fri");
    expect(cronRunsOn(schedule, new Date(Date.UTC(2024, 8, 13)))).toBe(true); // Friday the 13th
    expect(cronRunsOn(schedule, new Date(Date.UTC(2024, 8, 6)))).toBe(true); // a Friday
    expect(cronRunsOn(schedule, new Date(Date.UTC(2024, 10, 13)))).toBe(true); // a Wednesday, the 13th
    expect(cronRunsOn(schedule, new Date(Date.UTC(2024, 8, 12)))).toBe(false);
  });
});

describe("longestCronIntervalSeconds", () => {
  it("is the longest gap between two runs", () => {
    expect(longestCronIntervalSeconds("0 2 * * *")).toBe(86400);
    expect(longestCronIntervalSeconds("*/15 * * * *")).toBe(900);
    expect(longestCronIntervalSeconds("0 */6 * * *")).toBe(6 * 3600);
    expect(longestCronIntervalSeconds("30 3 * * 1")).toBe(7 * 86400);
    expect(longestCronIntervalSeconds("0 1 * * 1-5")).toBe(3 * 86400); // Friday to Monday
    expect(longestCronIntervalSeconds("@hourly")).toBe(3600);
    expect(longestCronIntervalSeconds("0 0 1 * *")).toBe(31 * 86400);
  });

  it("counts uneven gaps, leap days and the day-field 'or'", () => {
    expect(longestCronIntervalSeconds("0 1,23 * * *")).toBe(22 * 3600);
    expect(longestCronIntervalSeconds("0 0 1 */6 *")).toBe(184 * 86400); // July to January
    expect(longestCronIntervalSeconds("0 0 1,15 * mon")).toBe(7 * 86400);
    expect(longestCronIntervalSeconds("0 0 29 2 *")).toBe((4 * 365 + 1) * 86400);
  });
});
