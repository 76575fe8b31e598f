/**
 * Plain-text secrets in Pulumi.<stack>.yaml: hostile stack config files in a temporary project
 * give exact located problems, the repository's own stack config files give none, and
 * `nexus validate` reports them after the registry problems.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectDirOf, projectStackConfigProblems, stackConfigFiles, stackConfigProblems } from "../../cmd/stackConfig";
import { formatProblem } from "../../domain/loader";
import { copyRegistries, removeRegistries, ROOT } from "../support/registries";

/** Assembled from parts, so that secret scanners do not take the test vector for a leaked webhook. */
const SLACK_WEBHOOK = ["https://hooks.", "slack.com/services/", "T0A1B2C3D/B4E5F6G7H/", "ovpLPtrC7Ep42wY8I7e2pk5X"].join("");
const RANDOM_40 = "VhdG6MRswmdDF11qrTh5THuq9hMUgrSO5ALxIHd8";

const HOSTILE = `# Every kind of plain secret a hand-edited stack config can hold.
secretsprovider: passphrase
encryptionsalt: v1:Zm9vYmFyYmF6:v1:AbCdEf123456:Q2hhbmdlTWU=
config:
  aws:region: eu-central-1
  nexus-platform:postgresPassword: hunter2
  nexus-platform:coordinationHubToken:
    secure: v1:AAABAHx0c2VjdXJlLXZhbHVl
  nexus-platform:jwtSigningKey: "c2lnbmluZy1rZXk="
  nexus-platform:dbPwd: 123456
  nexus-platform:skipAwait: true
  nexus-platform:oidcIssuer: oidc.eks.eu-central-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E
  nexus-platform:alertWebhook: ${SLACK_WEBHOOK}
  nexus-platform:database:
    host: postgres.data.svc.cluster.local
    password: s3cret
    replicas:
      - url: postgres://app:hunter2@replica-0:5432/app
      - url: postgres://replica-1:5432/app
  nexus-platform:apiKeys:
    - secure: v1:AAABAHx0c2VjdXJl
    - plain-key-value
  nexus-platform:upstreamSeed: ${RANDOM_40}
  nexus-platform:sessionKey: &shared keyboard-cat
  nexus-platform:cookieSecret: *shared
  nexus-platform:emptyToken: ""
  nexus-platform:tokenFromEnv: \${NEXUS_TOKEN}
`;

const FIX = (key: string) => `store it encrypted with \`pulumi config set --secret ${key}\` (the file then holds a secure: value)`;
const FIX_PATH = (key: string) => `store it encrypted with \`pulumi config set --secret --path '${key}'\` (the file then holds a secure: value)`;

let dir: string;
const write = (name: string, text: string | Buffer) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
};
const located = (name: string, text: string | Buffer) => stackConfigProblems(write(name, text), name).map(formatProblem);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-stack-config-"));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("stackConfigProblems", () => {
  it("locates every plain value that looks like a secret, and nothing else", () => {
    expect(located("Pulumi.hostile.yaml", HOSTILE)).toEqual([
      `Pulumi.hostile.yaml:6:36 config.nexus-platform:postgresPassword: plain value that looks like a secret: its name says it is a password ("password"); ${FIX("nexus-platform:postgresPassword")}`,
      `Pulumi.hostile.yaml:9:33 config.nexus-platform:jwtSigningKey: plain value that looks like a secret: its name says it is a secret key ("signing key"); ${FIX("nexus-platform:jwtSigningKey")}`,
      `Pulumi.hostile.yaml:10:25 config.nexus-platform:dbPwd: plain value that looks like a secret: its name says it is a password ("pwd"); ${FIX("nexus-platform:dbPwd")}`,
      `Pulumi.hostile.yaml:13:32 config.nexus-platform:alertWebhook: plain value that looks like a secret: its value is a Slack webhook URL, whose path is its token; ${FIX("nexus-platform:alertWebhook")}`,
      `Pulumi.hostile.yaml:16:15 config.nexus-platform:database.password: plain value that looks like a secret: its name says it is a password ("password"); ${FIX_PATH("nexus-platform:database.password")}`,
      `Pulumi.hostile.yaml:18:14 config.nexus-platform:database.replicas[0].url: plain value that looks like a secret: its value is a URL with a password (scheme://user:password@host); ${FIX_PATH("nexus-platform:database.replicas[0].url")}`,
      `Pulumi.hostile.yaml:22:7 config.nexus-platform:apiKeys[1]: plain value that looks like a secret: its name says it is a secret key ("api keys"); ${FIX_PATH("nexus-platform:apiKeys[1]")}`,
      `Pulumi.hostile.yaml:23:32 config.nexus-platform:upstreamSeed: plain value that looks like a secret: its value is a random-looking string (40 characters mixing cases and digits, 4.7 bits of entropy per character); ${FIX("nexus-platform:upstreamSeed")}`,
      `Pulumi.hostile.yaml:24:38 config.nexus-platform:sessionKey: plain value that looks like a secret: its name says it is a secret key ("session key"); ${FIX("nexus-platform:sessionKey")}`,
    ]);
  });

  it("accepts secure values, switches, identifiers and empty files", () => {
    expect(
      located(
        "Pulumi.clean.yaml",
        "config:\n  nexus-platform:postgresPassword:\n    secure: v1:AAAB\n  nexus-platform:awsEnabled: true\n  nexus-platform:backupBucket: nexus-prod-backups\n",
      ),
    ).toEqual([]);
    expect(located("Pulumi.empty.yaml", "# nothing set yet\n")).toEqual([]);
    expect(located("Pulumi.noconfig.yaml", "secretsprovider: passphrase\nencryptionsalt: v1:abc\n")).toEqual([]);
  });

  it("reports a file it cannot read as YAML where the trouble is", () => {
    expect(located("Pulumi.syntax.yaml", 'config:\n  nexus-platform:a: "unclosed\n')).toEqual([
      'Pulumi.syntax.yaml:2:21 (file): YAML syntax: Missing closing "quote: fix the YAML so Pulumi can read the stack config',
    ]);
    expect(located("Pulumi.dup.yaml", "config:\n  nexus-platform:a: x\n  nexus-platform:a: y\n")).toEqual([
      "Pulumi.dup.yaml:3:3 (file): YAML syntax: Map keys must be unique: fix the YAML so Pulumi can read the stack config",
    ]);
    expect(located("Pulumi.list.yaml", "- config\n")).toEqual(["Pulumi.list.yaml:1:1 (root): the stack config must be a mapping with a config: section"]);
    expect(located("Pulumi.cfglist.yaml", "config:\n  - a\n")).toEqual(["Pulumi.cfglist.yaml:2:3 config: config must be a mapping of KEY: value"]);
    expect(located("Pulumi.binary.yaml", Buffer.from([0x63, 0xff, 0xfe, 0x0a]))).toEqual([
      "Pulumi.binary.yaml:1:1 (file): cannot read the stack config file (it is not UTF-8 text)",
    ]);
    expect(located("Pulumi.huge.yaml", `config:\n${"  # padding\n".repeat(100_000)}`)).toEqual([
      "Pulumi.huge.yaml:1:1 (file): file is 1200008 bytes, over the 1048576-byte limit for a stack config file",
    ]);
  });

  it("survives hostile nesting without overflowing the stack", () => {
    expect(located("Pulumi.deep.yaml", `config:\n  a:b: ${"[".repeat(100_000)}\n`)).toEqual([
      expect.stringMatching(/^Pulumi\.deep\.yaml:2:\d+ \(file\): values are nested too deeply to read/),
    ]);
    // Deep but readable: still walked to the leaf, without recursion.
    expect(located("Pulumi.nested.yaml", `config:\n  a:b: ${"{x: ".repeat(500)}{password: hunter2}${"}".repeat(500)}\n`)).toEqual([
      expect.stringMatching(/^Pulumi\.nested\.yaml:2:\d+ config\.a:b(\.x){500}\.password: plain value that looks like a secret/),
    ]);
  });
});

describe("the project's stack config", () => {
  it("finds the project of a registries folder and its stack files", () => {
    expect(projectDirOf(path.join(ROOT, "registries"))).toBe(ROOT);
    expect(stackConfigFiles(ROOT).map((f) => path.basename(f))).toEqual(["Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml"]);
  });

  it("passes the repository's own Pulumi.dev.yaml and Pulumi.prod.yaml", () => {
    expect(projectStackConfigProblems(path.join(ROOT, "registries"))).toEqual([]);
  });

  it("skips a registries folder outside a Pulumi project", () => {
    const registries = copyRegistries();
    try {
      fs.writeFileSync(path.join(path.dirname(registries), "Pulumi.dev.yaml"), "config:\n  p:dbPassword: hunter2\n");
      expect(projectStackConfigProblems(registries)).toEqual([]);
    } finally {
      removeRegistries(registries);
    }
  });
});

describe("nexus validate", () => {
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [path.join(ROOT, "bin", "nexus.js"), ...args], { cwd: ROOT, timeout: 120_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
      });
    });

  it("reports plain secrets of the project's stack config files and exits 1", async () => {
    const registries = copyRegistries();
    const project = path.dirname(registries);
    try {
      fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
      fs.writeFileSync(path.join(project, "Pulumi.dev.yaml"), "config:\n  nexus-platform:skipAwait: true\n");
      fs.writeFileSync(path.join(project, "Pulumi.prod.yaml"), "config:\n  aws:region: eu-central-1\n  nexus-platform:postgresPassword: hunter2\n");
      const file = path.join(project, "Pulumi.prod.yaml");
      const r = await run(["validate", "--registries", registries]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe(
        `${file}:3:36 config.nexus-platform:postgresPassword: plain value that looks like a secret: its name says it is a password ("password"); ${FIX("nexus-platform:postgresPassword")}\n`,
      );
      expect(r.stderr).toContain(`nexus: 1 problem(s) in ${file}; fix them and run again\n`);
      const json = await run(["validate", "--registries", registries, "--format", "json"]);
      expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ file, line: 3, column: 36, code: "stack-config-plain-secret" })]);
    } finally {
      removeRegistries(registries);
    }
  });
});
