/**
 * Monitoring registry fields the broader builder tests leave at one value: an SLO's window and
 * description, and a dashboard's title, services and panels, each shown where it lands.
 */
import { describe, expect, it } from "vitest";
import { grafanaDashboard, sloRuleGroups } from "../../../components/builders/monitoring";
import type { ResolvedDashboard, ResolvedSlo } from "../../../domain/model";

const slo: ResolvedSlo = {
  name: "checkout-availability",
  service: "checkout",
  description: "Checkout answers without a server error.",
  objective: 99.5,
  window: "28d",
  sli: { errorQuery: "sum(rate(errors[{{window}}]))", totalQuery: "sum(rate(requests[{{window}}]))" },
  source: "registries/monitoring.yaml:70",
};

describe("SLO burn-rate alerts", () => {
  it("name the SLO's objective and window in their summary and open their description with the SLO's", () => {
    const alerts = sloRuleGroups([slo], { services: { checkout: "web" }, fallback: "platform" }).groups[0]!.rules.filter((r) => "alert" in r);
    expect(alerts.length).toBe(2);
    for (const a of alerts) {
      const annotations = (a as { annotations: Record<string, string> }).annotations;
      expect(annotations["summary"]).toContain("SLO checkout-availability (99.5% over 28d)");
      expect(annotations["description"]!.startsWith("Checkout answers without a server error. ")).toBe(true);
    }
    const plain = sloRuleGroups([{ ...slo, description: undefined }], { services: {}, fallback: "platform" }).groups[0]!.rules.filter((r) => "alert" in r);
    for (const a of plain) expect((a as { annotations: Record<string, string> }).annotations["description"]).toMatch(/^Error ratio above /);
  });
});

describe("dashboards", () => {
  const dashboard: ResolvedDashboard = {
    name: "checkout",
    title: "Checkout at a glance",
    services: ["checkout", "payments"],
    panels: [
      { title: "Requests per second", type: "timeseries", expr: "sum(rate(requests[5m]))", unit: "reqps" },
      { title: "Error ratio", type: "gauge", expr: "sum(rate(errors[5m])) / sum(rate(requests[5m]))" },
    ],
    source: "registries/monitoring.yaml:90",
  };

  it("carry the registry's title, a tag per service, and each panel's title, type and expression", () => {
    const json = grafanaDashboard(dashboard);
    expect(json.title).toBe("Checkout at a glance");
    expect(json.tags).toEqual(["nexus", "checkout", "payments"]);
    expect(json.panels.map((p) => [p.title, p.type, p.targets[0]!.expr])).toEqual([
      ["Requests per second", "timeseries", "sum(rate(requests[5m]))"],
      ["Error ratio", "gauge", "sum(rate(errors[5m])) / sum(rate(requests[5m]))"],
    ]);
  });
});
