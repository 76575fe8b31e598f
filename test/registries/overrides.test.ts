/**
 * Per-environment overrides of monitoring entries: an alert and an SLO changed for one
 * environment keep their registry values in the others.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loadModel } from "../../domain/loader";
import { copyRegistries, removeRegistries, replaceIn } from "../support/registries";

let dir: string | undefined;
afterEach(() => {
  if (dir) removeRegistries(dir);
  dir = undefined;
});

describe("monitoring overrides", () => {
  it("apply an alert's and an SLO's overrides in their environment only", () => {
    dir = copyRegistries();
    replaceIn(
      dir,
      "monitoring.yaml",
      "    summary: The API is down\n",
      "    summary: The API is down\n    environments: { dev: { enabled: false, severity: warning } }\n",
    );
    replaceIn(dir, "monitoring.yaml", "    objective: 99.9\n", "    objective: 99.9\n    environments: { dev: { objective: 99 } }\n");
    const dev = loadModel({ registriesDir: dir, env: "dev", today: "2026-11-27" });
    const prod = loadModel({ registriesDir: dir, env: "prod", today: "2026-11-27" });
    expect(dev.monitoring.alerts[0]).toMatchObject({ name: "api-down", enabled: false, severity: "warning" });
    expect(prod.monitoring.alerts[0]).toMatchObject({ name: "api-down", enabled: true, severity: "critical" });
    expect(dev.monitoring.slos[0]).toMatchObject({ name: "api-availability", objective: 99 });
    expect(prod.monitoring.slos[0]).toMatchObject({ name: "api-availability", objective: 99.9 });
  });

  it("apply the routing's overrides in their environment only", () => {
    dir = copyRegistries();
    replaceIn(dir, "monitoring.yaml", "  warning: [ops-slack]\n", "  warning: [ops-slack]\n  environments: { dev: { warning: [ops-mail], groupWait: 10s } }\n");
    const dev = loadModel({ registriesDir: dir, env: "dev", today: "2026-11-27" });
    const prod = loadModel({ registriesDir: dir, env: "prod", today: "2026-11-27" });
    expect(dev.monitoring.routing).toMatchObject({ warning: ["ops-mail"], groupWait: "10s" });
    expect(prod.monitoring.routing).toMatchObject({ warning: ["ops-slack"], groupWait: "30s" });
  });
});
