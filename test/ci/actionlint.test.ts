import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { generateWorkflows } from "../../cmd/ci";
import { copyRegistries, REAL_REGISTRIES, removeRegistries, replaceIn, ROOT } from "../support/registries";

/**
 * Every generated workflow passes actionlint (with shellcheck on the run: scripts when it is on
 * PATH). The binary is built by `scripts/actionlint` from the Go module proxy; CI builds it before
 * the tests. A missing binary is a failure, never a skip.
 */

const SCRIPT = path.join(ROOT, "scripts", "actionlint");
const VERSION = /^VERSION=(\S+)/m.exec(fs.readFileSync(SCRIPT, "utf8"))![1]!;
const CACHE = process.env.NEXUS_CACHE ?? path.join(os.homedir(), ".cache", "nexus");
const BINARY = path.join(CACHE, `actionlint-${VERSION}`, "bin", "actionlint");

function actionlint(args: string[], cwd = ROOT) {
  expect(
    fs.existsSync(BINARY),
    `actionlint ${VERSION} is not built at ${BINARY}: run \`scripts/actionlint --build-only\` first (it builds it from the Go module proxy; CI does this before the tests)`,
  ).toBe(true);
  const result = spawnSync(SCRIPT, args, { cwd, encoding: "utf8", timeout: 120_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("actionlint", () => {
  it("passes on the committed workflows", () => {
    const { code, output } = actionlint([]);
    expect(code, `scripts/actionlint found problems in .github/workflows:\n${output}`).toBe(0);
  });

  it("passes on the workflows of a variant: staging approved and on AWS, an environment without credentials, a manual check", () => {
    const dir = copyRegistries(REAL_REGISTRIES);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-actionlint-"));
    try {
      replaceIn(
        dir,
        "pipelines.yaml",
        "    approval:\n      required: false\n    secrets:\n      passphrase: PULUMI_CONFIG_PASSPHRASE\n      backendUrl: PULUMI_BACKEND_URL\n      kubeconfig: KUBECONFIG_STAGING\n",
        "    approval: { required: true, reviewers: [qa] }\n    secrets: { passphrase: STAGING_PASSPHRASE, awsRoleArn: STAGING_ROLE }\n",
      );
      replaceIn(
        dir,
        "pipelines.yaml",
        "      - { name: drift, type: drift",
        [
          "      - { name: drift, type: drift, targets: [dev, staging, prod], policyGate: true }",
          "  - name: manual-check",
          "    trigger: manual",
          "    stages:",
          "      - { name: check, type: preview, targets: [staging], policyGate: true }",
          "      - { name: drift-again, type: drift",
        ].join("\n"),
      );
      const { problems, files } = generateWorkflows(dir);
      expect(problems).toEqual([]);
      expect(files.map((f) => f.path)).toContain(".github/workflows/manual-check.yml");
      const paths = files.map((f) => {
        const full = path.join(out, f.path);
        fs.mkdirSync(path.dirname(full), { recursive: true });
        fs.writeFileSync(full, f.content);
        return full;
      });
      const { code, output } = actionlint(paths, out);
      expect(code, `scripts/actionlint found problems:\n${output}`).toBe(0);
    } finally {
      removeRegistries(dir);
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
