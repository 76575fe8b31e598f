/**
 * Hostile alert text in the Prometheus and Alertmanager files (read by go-yaml, which breaks lines
 * at NEL, LS and PS): written double-quoted with escapes, read back unchanged, nothing raw.
 */
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { toYaml } from "../../components/builders/monitoring";

describe("toYaml with hostile alert text", () => {
  it.each([
    ["LS", "API down\u2028groups: []"],
    ["PS", "API down\u2029- alert: Fake"],
    ["NEL", "API down\u0085  labels: {severity: none}"],
    ["CR", "API down\r\nx: 1"],
    ["BOM", "\ufeffAPI down"],
  ])("%s: one quoted scalar, read back unchanged", (_name, summary) => {
    const file = { groups: [{ name: "registry", rules: [{ alert: "ApiDown", expr: "up == 0", annotations: { summary } }] }] };
    const text = toYaml(file);
    expect(text).not.toMatch(/[\r\u0085\u2028\u2029\ufeff]/);
    expect(text).toMatch(/^ +summary: "[^\n]*"$/m);
    expect(YAML.parse(text)).toEqual(file);
  });

  it("writes ordinary text as the `yaml` package does", () => {
    const file = { groups: [{ name: "g", rules: [{ alert: "A", expr: "sum(rate(x[5m]))\n  > 1\n", annotations: { summary: "API is down: check it" } }] }] };
    expect(toYaml(file)).toBe(YAML.stringify(file, { lineWidth: 0, aliasDuplicateObjects: false }));
  });
});
