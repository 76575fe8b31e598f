/**
 * no-literal-secret-env with the detector of contract/secrets.ts: the names the old word list
 * missed, webhook URLs carrying a token, and look-alikes that are not secrets. Runs through the
 * policy server's own handlers, as the policy table does.
 */
import { describe, expect, it } from "vitest";
import { TODAY } from "./fixtures";
import { LITERAL_SECRET_FIXTURES } from "./fixtures/kube";
import { runPolicy } from "./support";

const ENV_FIX =
  "to a literal value that looks like a secret: reference a Secret with valueFrom.secretKeyRef instead (list it under secrets: in the registry; the value lives in Pulumi config secrets)";
const CONFIGMAP_FIX =
  "holds a value that looks like a secret: move it to the entry's secrets: in the registry (a Pulumi config secret), which becomes a Secret";

const ROWS: [keyof typeof LITERAL_SECRET_FIXTURES, string[]][] = [
  [
    "deployment-literal-secret-names",
    ["DB_PASS", "DB_PWD", "SESSION_KEY", "JWT_SIGNING_KEY_B64", "ALERT_WEBHOOK_URL"].map(
      (name) => `Deployment "api": container "api" sets env ${name} ${ENV_FIX}`,
    ),
  ],
  ["deployment-secret-look-alikes", []],
  ["configmap-webhook-token", ["ALERT_WEBHOOK", "alertmanager.yml"].map((key) => `ConfigMap "api-env": key ${key} ${CONFIGMAP_FIX}`)],
  ["configmap-secret-look-alikes", []],
];

describe("no-literal-secret-env", () => {
  it.each(ROWS)("judges %s", async (fixture, messages) => {
    const result = await runPolicy("no-literal-secret-env", LITERAL_SECRET_FIXTURES[fixture], { today: TODAY });
    expect(result.messages).toEqual(messages);
    expect(result.diagnostics.every((d) => d.enforcementLevel === "mandatory")).toBe(true);
  });
});
