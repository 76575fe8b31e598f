/**
 * The audit reads the stack settings from Pulumi.<stack>.yaml itself; the program reads them
 * through pulumi.Config. Both go through settingsFromConfig, so they cannot drift apart.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import * as runtimeSettings from "@pulumi/pulumi/runtime/settings";
import { describe, expect, it } from "vitest";
import { PROJECT_DIR, StackConfigError, readStackConfig, stackSettings } from "../../cmd/audit/stack";
import { readSettings, settingsFromConfig } from "../../stacks/settings";
import { DEV_SETTINGS, PROD_SETTINGS, defaultSettings } from "../stacks/support";

describe("stack settings", () => {
  it("read from Pulumi.yaml defaults and Pulumi.<stack>.yaml", () => {
    expect(stackSettings(PROJECT_DIR, "dev").settings).toEqual(DEV_SETTINGS);
    const prod = stackSettings(PROJECT_DIR, "prod");
    expect(prod.stackConfig.config).toMatchObject({
      "aws:region": "eu-central-1",
      "nexus-platform:awsEnabled": "true",
      "nexus-platform:registries": "registries",
    });
    expect(prod.settings).toEqual({ ...PROD_SETTINGS, kubernetes: { context: "nexus-prod" } });
  });

  it("are what readSettings gives the program for the same stack config", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const { config, values, project } = readStackConfig(PROJECT_DIR, stack);
      runtimeSettings.setMockOptions(new MockMonitor({ newResource: () => ({ id: "x", state: {} }), call: () => ({}) }), project, stack, false);
      pulumi.runtime.setAllConfig(config);
      expect(readSettings(stack)).toEqual(settingsFromConfig(stack, values, project));
    }
  });

  it("apply readSettings' defaults, boolean parsing and required keys", () => {
    expect(settingsFromConfig("qa", {})).toEqual(defaultSettings("qa"));
    expect(() => settingsFromConfig("qa", { skipAwait: "yes" })).toThrow("Configuration 'nexus-platform:skipAwait' value 'yes' is not a valid boolean");
    expect(() => settingsFromConfig("qa", { awsEnabled: "true", "aws:region": "eu-west-1" })).toThrow(
      "Missing required configuration variable 'nexus-platform:backupBucket'\n\tplease set a value using the command `pulumi config set nexus-platform:backupBucket <value>`",
    );
    expect(() => settingsFromConfig("qa", { awsEnabled: "true" })).toThrow("Missing required configuration variable 'aws:region'");
  });

  it("read readyTimeout as seconds, whole or with a unit, and refuse anything else", () => {
    expect(settingsFromConfig("qa", { readyTimeout: "180" }).readyTimeoutSeconds).toBe(180);
    expect(settingsFromConfig("qa", { readyTimeout: "90s" }).readyTimeoutSeconds).toBe(90);
    expect(settingsFromConfig("qa", { readyTimeout: "3m" }).readyTimeoutSeconds).toBe(180);
    expect(settingsFromConfig("qa", { readyTimeout: "1h" }).readyTimeoutSeconds).toBe(3600);
    expect(settingsFromConfig("qa", {})).not.toHaveProperty("readyTimeoutSeconds");
    for (const bad of ["0", "-5", "1.5m", "3 minutes", "2m30s", ""]) {
      expect(() => settingsFromConfig("qa", { readyTimeout: bad }), bad).toThrow(
        `Configuration 'nexus-platform:readyTimeout' value '${bad}' is not a valid duration: give whole seconds (180) or a number with s, m or h (180s, 3m, 1h)`,
      );
    }
  });

  it("name the known stacks when one does not exist", () => {
    expect(() => readStackConfig(PROJECT_DIR, "qa")).toThrow(
      new StackConfigError('unknown stack "qa": there is no Pulumi.qa.yaml; stacks of this project: dev, prod, staging', true),
    );
  });
});
