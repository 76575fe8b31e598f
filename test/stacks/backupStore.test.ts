/**
 * The S3-compatible backup store of a stack without AWS: its settings (plain values in
 * Pulumi.<stack>.yaml, credentials as secrets), and what the platform builds from them. A stack
 * that names no store keeps today's claim destination.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { AWS, K8S } from "../../contract/types";
import { runMocked } from "../../internal/pulumi/mocks";
import { backupStore, buildPlatform } from "../../stacks/platform";
import { BACKUP_STORE_SECRET_KEYS, SETTINGS_KEYS, readBackupStoreCredentials, settingsFromConfig, type StackSettings } from "../../stacks/settings";
import { kubeInputs } from "../support/inputs";
import { expectNoPlaintextSecret, secretValues } from "../support/secrets";
import { DEV_SETTINGS, PROD_SETTINGS, fakeSecrets, realModel } from "./support";

const STORE_CONFIG = { backupStoreEndpoint: "http://10.244.0.1:9000", backupStoreBucket: "nexus-dev-backups", backupStoreRegion: "us-east-1" };
const STORE = { endpoint: "http://10.244.0.1:9000", bucket: "nexus-dev-backups", region: "us-east-1" };
const CREDENTIALS = {
  [BACKUP_STORE_SECRET_KEYS.AWS_ACCESS_KEY_ID]: pulumi.secret("s3cr3t-store-id"),
  [BACKUP_STORE_SECRET_KEYS.AWS_SECRET_ACCESS_KEY]: pulumi.secret("s3cr3t-store-key"),
};

describe("backup store settings", () => {
  it("are absent unless backupStoreEndpoint is set: a fresh clone's dev stack keeps its claims", () => {
    expect(settingsFromConfig("dev", {})).not.toHaveProperty("backupStore");
    expect(DEV_SETTINGS).not.toHaveProperty("backupStore");
  });

  it("read endpoint, bucket and region as plain keys of the project", () => {
    expect(settingsFromConfig("dev", STORE_CONFIG).backupStore).toEqual(STORE);
    for (const key of Object.keys(STORE_CONFIG)) expect(SETTINGS_KEYS).toContain(key);
    // The credentials are secrets: never read with the plain settings.
    for (const key of Object.values(BACKUP_STORE_SECRET_KEYS)) expect(SETTINGS_KEYS).not.toContain(key);
    // A trailing slash is the same endpoint.
    expect(settingsFromConfig("dev", { ...STORE_CONFIG, backupStoreEndpoint: "http://10.244.0.1:9000/" }).backupStore?.endpoint).toBe("http://10.244.0.1:9000");
  });

  it("require bucket and region with an endpoint, an IPv4 http(s) endpoint, and no AWS beside it", () => {
    expect(() => settingsFromConfig("dev", { backupStoreEndpoint: STORE.endpoint, backupStoreRegion: "us-east-1" })).toThrow(
      "Missing required configuration variable 'nexus-platform:backupStoreBucket'",
    );
    expect(() => settingsFromConfig("dev", { backupStoreEndpoint: STORE.endpoint, backupStoreBucket: "b" })).toThrow(
      "Missing required configuration variable 'nexus-platform:backupStoreRegion'",
    );
    for (const bad of ["10.244.0.1:9000", "ftp://10.244.0.1", "http://10.244.0.1:9000/bucket", "not a url"]) {
      expect(() => settingsFromConfig("dev", { ...STORE_CONFIG, backupStoreEndpoint: bad }), bad).toThrow(
        /is not an S3 endpoint: give http\(s\):\/\/HOST:PORT/,
      );
    }
    expect(() => settingsFromConfig("dev", { ...STORE_CONFIG, backupStoreEndpoint: "http://minio.local:9000" })).toThrow(/give its IPv4 address/);
    expect(() =>
      settingsFromConfig("prod", {
        ...STORE_CONFIG,
        awsEnabled: "true",
        "aws:region": "eu-central-1",
        backupBucket: "b",
        oidcProviderArn: "arn",
        oidcIssuer: "issuer",
      }),
    ).toThrow(/backupStoreEndpoint' is set but awsEnabled is true/);
  });

  it("read the credentials as secrets from the stack config, naming every missing key", async () => {
    const settings: StackSettings = { ...DEV_SETTINGS, backupStore: STORE };
    expect(readBackupStoreCredentials(DEV_SETTINGS)).toEqual({});
    await runMocked(
      () => {
        expect(() => readBackupStoreCredentials(settings)).toThrow(
          "backupStoreEndpoint is set but the store's credentials are not; nothing was deployed. Set them:\n" +
            "  backupStoreAccessKeyId: pulumi config set --secret backupStoreAccessKeyId VALUE\n" +
            "  backupStoreSecretAccessKey: pulumi config set --secret backupStoreSecretAccessKey VALUE",
        );
      },
      { stack: "dev" },
    );
    let read: Record<string, pulumi.Output<string>> = {};
    await runMocked(
      () => {
        read = readBackupStoreCredentials(settings);
      },
      { stack: "dev", config: { "nexus-platform:backupStoreAccessKeyId": "id-from-config", "nexus-platform:backupStoreSecretAccessKey": "key-from-config" } },
    );
    expect(Object.keys(read).sort()).toEqual(["backupStoreAccessKeyId", "backupStoreSecretAccessKey"]);
    for (const value of Object.values(read)) expect(await pulumi.isSecret(value)).toBe(true);
  });
});

describe("the platform with a backup store", () => {
  it("gives every backup job the store, its Secret and egress, and creates nothing in AWS", async () => {
    const model = realModel("dev");
    const settings: StackSettings = { ...DEV_SETTINGS, backupStore: STORE };
    const run = await runMocked(() => buildPlatform(model, settings, { ...fakeSecrets(model), ...CREDENTIALS }) as never, { stack: "dev" });
    const backups = model.tasks.filter((t) => t.kind === "backup");
    expect(backups.length).toBeGreaterThan(0);
    for (const t of backups) {
      const secret = run.one(K8S.Secret, `${t.name}-store`).inputs;
      expect(secretValues(secret)).toEqual([{ AWS_ACCESS_KEY_ID: "s3cr3t-store-id", AWS_SECRET_ACCESS_KEY: "s3cr3t-store-key" }]);
      expect(kubeInputs(run, K8S.NetworkPolicy, `${t.name}-store-netpol`).spec.egress).toEqual([
        { to: [{ ipBlock: { cidr: "10.244.0.1/32" } }], ports: [{ protocol: "TCP", port: 9000 }] },
      ]);
      expect(run.byType(K8S.PersistentVolumeClaim).map((r) => r.name)).not.toContain(`${t.name}-pvc`);
    }
    expect(run.outputs["backups"]).toMatchObject(
      Object.fromEntries(backups.map((t) => [t.name, `s3://nexus-dev-backups/${t.backup!.destination.prefix} (${STORE.endpoint})`])),
    );
    expect(run.byType(AWS.buckets[0]!)).toEqual([]);
    expectNoPlaintextSecret(run);
  });

  it("needs the credentials among the stack's secrets, and none without a store", () => {
    expect(backupStore(DEV_SETTINGS, {})).toBeUndefined();
    expect(backupStore(PROD_SETTINGS, CREDENTIALS)).toBeUndefined();
    expect(() => backupStore({ ...DEV_SETTINGS, backupStore: STORE }, {})).toThrow(/names a backup store but not its credentials/);
    expect(backupStore({ ...DEV_SETTINGS, backupStore: STORE }, CREDENTIALS)).toMatchObject(STORE);
  });
});

describe("the apiServerEndpoints setting", () => {
  it("lists IP:PORT pairs, IPv6 in brackets, and refuses anything else with the key named", () => {
    expect(settingsFromConfig("dev", {})).not.toHaveProperty("apiServerEndpoints");
    expect(settingsFromConfig("dev", { apiServerEndpoints: "127.0.0.1:6443, [fd00::1]:443" }).apiServerEndpoints).toEqual([
      { ip: "127.0.0.1", port: 6443 },
      { ip: "fd00::1", port: 443 },
    ]);
    for (const bad of ["", "api.local:6443", "10.0.0.1", "10.0.0.300:6443", "10.0.0.1:0", "10.0.0.1:6443,"]) {
      expect(() => settingsFromConfig("dev", { apiServerEndpoints: bad }), bad).toThrow(/apiServerEndpoints.*is not a list of IP:PORT/);
    }
  });

  it("replaces the read of the cluster's EndpointSlice: the API egress opens exactly the listed addresses", async () => {
    const model = realModel("dev");
    const settings: StackSettings = { ...DEV_SETTINGS, apiServerEndpoints: [{ ip: "192.0.2.7", port: 7443 }] };
    const run = await runMocked(() => buildPlatform(model, settings, fakeSecrets(model)) as never, { stack: "dev" });
    const egress = run.byType(K8S.NetworkPolicy).filter((r) => r.name.endsWith("api-egress") || r.name.endsWith("api-server"));
    expect(egress.length).toBeGreaterThan(0);
    for (const policy of egress) {
      const spec = JSON.stringify(kubeInputs(run, K8S.NetworkPolicy, policy.name).spec);
      expect(spec, policy.name).toContain('"cidr":"192.0.2.7/32"');
      expect(spec, policy.name).toContain('"port":7443');
      // What the cluster's EndpointSlice would have given (the mocks answer its read so).
      expect(spec, policy.name).not.toContain("10.244.0.1/32");
    }
  });
});
