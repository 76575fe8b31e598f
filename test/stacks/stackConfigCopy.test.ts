/**
 * scripts/lib/stack-config.mjs, run as scripts/stack runs it, on temporary files: the working copy
 * of a checkout's own stack (local) never takes the team's secrets provider, salt or encrypted
 * values and keeps its own; the copy of a shared stack (team) is the committed file, encrypted
 * values included, plus the settings a checkout keeps; adopt puts a new stack's salt or key into
 * the committed file, its comments kept.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "../support/registries";

const run = promisify(execFile);
const SCRIPT = path.join(ROOT, "scripts", "lib", "stack-config.mjs");

const TEAM_SALT = "v1:bmV4dXN0ZWFt:v1:Gm0q3Xo1nQ2y3Lk8:8sWk1bK2Qz5pL7vN9rT3yU6iO0aS4dF==";
const OWN_SALT = "v1:bG9jYWxzYWx0:v1:Hh7c2Yp9mR4t6Wq1:3dF5gH7jK9lZ1xC3vB5nM7qW9eR1tY==";
const TEAM_SECRET = "v1:AAABAGdyYWZhbmEtdGVhbS1jaXBoZXJ0ZXh0";
const OWN_SECRET = "v1:AAABAG93bi1sb2NhbC1jaXBoZXJ0ZXh0";
const OWN_ONLY_SECRET = "v1:AAABAGEtc2VjcmV0LW9ubHktdGhpcy1jb3B5";

/** A shared stack's committed config: the team's passphrase salt, an encrypted secret, typed values, comments. */
const COMMITTED = `# Staging: the same registries with their staging overrides.
# The team's passphrase encrypts its secrets here.
encryptionsalt: ${TEAM_SALT}
config:
  # How long up waits for every workload (seconds).
  nexus-platform:readyTimeout: 300
  nexus-platform:awsEnabled: false
  nexus-platform:grafanaAdminPassword:
    secure: ${TEAM_SECRET}
`;

let dir: string;
const file = (name: string, text?: string) => {
  const f = path.join(dir, name);
  if (text !== undefined) fs.writeFileSync(f, text);
  return f;
};
const yaml = (f: string) => parse(fs.readFileSync(f, "utf8")) as Record<string, unknown> & { config?: Record<string, unknown> };
const sync = (mode: string, from: string, to: string) => run(process.execPath, [SCRIPT, mode, from, to]);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-stack-config-copy-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("local: a checkout's own stack", () => {
  it("starts the copy as the committed file, comments included, less the team's salt and encrypted values", async () => {
    const committed = file("Pulumi.staging.yaml", COMMITTED);
    const copy = file("copy.yaml");
    await sync("local", committed, copy);
    const text = fs.readFileSync(copy, "utf8");
    expect(text).toContain("# How long up waits for every workload (seconds).");
    expect(text).not.toContain(TEAM_SALT);
    expect(text).not.toContain("secure:");
    expect(yaml(copy)).toEqual({ config: { "nexus-platform:readyTimeout": 300, "nexus-platform:awsEnabled": false } });
  });

  it("keeps the copy's own salt and encrypted values, and carries the committed plain settings over", async () => {
    const committed = file(
      "Pulumi.staging.yaml",
      `secretsprovider: awskms://alias/nexus-state?region=eu-central-1
encryptedkey: AQICAHhTeamKeyBlob==
encryptionsalt: ${TEAM_SALT}
config:
  nexus-platform:readyTimeout: 300
  nexus-platform:awsEnabled: false
  nexus-platform:grafanaAdminPassword:
    secure: ${TEAM_SECRET}
environment:
  - nexus-staging
`,
    );
    // What Pulumi left in the copy: its own salt, its own secrets, every value rewritten as a string.
    const copy = file(
      "copy.yaml",
      `encryptionsalt: ${OWN_SALT}
config:
  nexus-platform:readyTimeout: "180"
  nexus-platform:awsEnabled: "false"
  nexus-platform:grafanaAdminPassword:
    secure: ${OWN_SECRET}
  nexus-platform:alertWebhook:
    secure: ${OWN_ONLY_SECRET}
  nexus-platform:skipAwait: "true"
  nexus-platform:localCommands: "false"
  nexus-platform:backupStoreEndpoint: http://127.0.0.1:9000
`,
    );
    await sync("local", committed, copy);
    expect(yaml(copy)).toEqual({
      encryptionsalt: OWN_SALT,
      config: {
        "nexus-platform:readyTimeout": 300,
        "nexus-platform:awsEnabled": false,
        "nexus-platform:grafanaAdminPassword": { secure: OWN_SECRET },
        "nexus-platform:alertWebhook": { secure: OWN_ONLY_SECRET },
        "nexus-platform:localCommands": "false",
        "nexus-platform:backupStoreEndpoint": "http://127.0.0.1:9000",
      },
      environment: ["nexus-staging"],
    });
  });

  it("changes nothing on a second run", async () => {
    const committed = file("Pulumi.staging.yaml", COMMITTED);
    const copy = file("copy.yaml", `encryptionsalt: ${OWN_SALT}\nconfig:\n  nexus-platform:readyTimeout: "60"\n`);
    await sync("local", committed, copy);
    const once = fs.readFileSync(copy, "utf8");
    await sync("local", committed, copy);
    expect(fs.readFileSync(copy, "utf8")).toBe(once);
  });
});

describe("team: a stack the team shares", () => {
  it("starts the copy as the committed file exactly, salt and encrypted values included", async () => {
    const committed = file("Pulumi.staging.yaml", COMMITTED);
    const copy = file("copy.yaml");
    await sync("team", committed, copy);
    expect(fs.readFileSync(copy, "utf8")).toBe(COMMITTED);
  });

  it("takes the committed salt and secrets over the copy's own, drops the copy's own secrets, and keeps the per-checkout settings", async () => {
    const committed = file("Pulumi.staging.yaml", COMMITTED);
    // A copy made while the stack was still a checkout's own (local), with Pulumi's strings.
    const copy = file(
      "copy.yaml",
      `# a comment of the copy
encryptionsalt: ${OWN_SALT}
encryptedkey: AQICAHhOwnKeyBlob==
config:
  nexus-platform:readyTimeout: "300"
  nexus-platform:grafanaAdminPassword:
    secure: ${OWN_SECRET}
  nexus-platform:alertWebhook:
    secure: ${OWN_ONLY_SECRET}
  nexus-platform:skipAwait: "true"
  nexus-platform:localCommands: "false"
  nexus-platform:backupStoreEndpoint: http://127.0.0.1:9000
  nexus-platform:backupStoreBucket: nexus-local
  nexus-platform:backupStoreRegion: us-east-1
`,
    );
    await sync("team", committed, copy);
    expect(yaml(copy)).toEqual({
      encryptionsalt: TEAM_SALT,
      config: {
        "nexus-platform:readyTimeout": 300,
        "nexus-platform:awsEnabled": false,
        "nexus-platform:grafanaAdminPassword": { secure: TEAM_SECRET },
        "nexus-platform:localCommands": "false",
        "nexus-platform:backupStoreEndpoint": "http://127.0.0.1:9000",
        "nexus-platform:backupStoreBucket": "nexus-local",
        "nexus-platform:backupStoreRegion": "us-east-1",
      },
    });
    expect(fs.readFileSync(copy, "utf8")).toContain("# a comment of the copy");
  });

  it("follows a change of the committed secrets provider", async () => {
    const committed = file(
      "Pulumi.prod.yaml",
      `secretsprovider: awskms://alias/nexus-state?region=eu-central-1
encryptedkey: AQICAHhTeamKeyBlob==
config:
  aws:region: eu-central-1
`,
    );
    const copy = file("copy.yaml", `encryptionsalt: ${TEAM_SALT}\nconfig:\n  aws:region: eu-central-1\n`);
    await sync("team", committed, copy);
    expect(yaml(copy)).toEqual({
      secretsprovider: "awskms://alias/nexus-state?region=eu-central-1",
      encryptedkey: "AQICAHhTeamKeyBlob==",
      config: { "aws:region": "eu-central-1" },
    });
  });
});

describe("adopt: a new stack's salt or key into the committed file", () => {
  it("writes the created file's salt into the committed file, keeping its comments and settings", async () => {
    const committedText = `# Staging: deployed by nexus deploy.
config:
  # seconds
  nexus-platform:readyTimeout: 300
`;
    const committed = file("Pulumi.staging.yaml", committedText);
    // What `pulumi stack init` wrote to the copy: the salt, and the settings as strings.
    const created = file(
      "created.yaml",
      `encryptionsalt: ${TEAM_SALT}\nconfig:\n  nexus-platform:readyTimeout: "300"\n  nexus-platform:localCommands: "true"\n`,
    );
    await sync("adopt", created, committed);
    const text = fs.readFileSync(committed, "utf8");
    expect(text).toContain("# Staging: deployed by nexus deploy.");
    expect(text).toContain("  # seconds\n");
    expect(yaml(committed)).toEqual({ config: { "nexus-platform:readyTimeout": 300 }, encryptionsalt: TEAM_SALT });
  });

  it("adopts a KMS secrets provider with its key", async () => {
    const committed = file("Pulumi.prod.yaml", "config:\n  aws:region: eu-central-1\n");
    const created = file("created.yaml", "secretsprovider: awskms://alias/nexus-state?region=eu-central-1\nencryptedkey: AQICAHhTeamKeyBlob==\nconfig: {}\n");
    await sync("adopt", created, committed);
    expect(yaml(committed)).toEqual({
      config: { "aws:region": "eu-central-1" },
      secretsprovider: "awskms://alias/nexus-state?region=eu-central-1",
      encryptedkey: "AQICAHhTeamKeyBlob==",
    });
  });

  it("leaves the committed file untouched when it already holds that salt", async () => {
    const committed = file("Pulumi.staging.yaml", COMMITTED);
    const before = fs.statSync(committed).mtimeMs;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await sync("adopt", file("created.yaml", `encryptionsalt: ${TEAM_SALT}\n`), committed);
    expect(fs.readFileSync(committed, "utf8")).toBe(COMMITTED);
    expect(fs.statSync(committed).mtimeMs).toBe(before);
  });
});

describe("usage", () => {
  it.each([[["copy", "a.yaml", "b.yaml"]], [["local", "a.yaml"]], [[]]])("exits 2 for %j", async (args) => {
    const failed = await run(process.execPath, [SCRIPT, ...args]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain("usage: stack-config.mjs local|team COMMITTED_FILE COPY_FILE | adopt CREATED_FILE COMMITTED_FILE");
  });
});
