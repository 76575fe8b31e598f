import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { annotation, writeGitHubOutput } from "../../cmd/ci/commands/output";
import { stackRegion } from "../../cmd/ci/commands/region";
import { errorDiagnostics } from "../../cmd/ci/commands/reportErrors";
import { ROOT } from "../support/registries";
import { cli, tempDir } from "./support";

/** The small commands the workflow steps call: the stack's AWS region (as a step output), a Pulumi report's errors. */

describe("nexus ci region", () => {
  it("prints the aws:region of the stack's config", async () => {
    const run = await cli(["region", "--stack", "prod", "--dir", ROOT]);
    expect(run).toMatchObject({ code: 0, out: "eu-central-1" });
  });

  it("fails, naming the file and the fix, when the setting or the file is missing", async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config:\n  nexus-platform:awsEnabled: false\n");
    const run = await cli(["region", "--stack", "dev", "--dir", dir]);
    expect(run.code).toBe(1);
    expect(run.out).toBe("");
    expect(run.err).toContain("aws:region is not set for stack dev: pulumi config set aws:region REGION --stack dev");
    expect((await cli(["region", "--stack", "qa", "--dir", dir])).err).toContain("there is no config file for stack qa");

    vi.stubEnv("GITHUB_ACTIONS", "true");
    const annotated = await cli(["region", "--stack", "dev", "--dir", dir]);
    expect(annotated.err).toMatch(/^::error file=[^:]*Pulumi\.dev\.yaml::aws:region is not set for stack dev: /);
  });

  it("lets only a region name through to $GITHUB_OUTPUT", () => {
    expect(stackRegion("config:\n  aws:region: us-gov-west-1\n", "s")).toEqual({ region: "us-gov-west-1" });
    for (const bad of ['"eu-central-1\\nrole=x"', "{ secure: abc }", '"EU central"', "[a]"]) {
      expect(stackRegion(`config:\n  aws:region: ${bad}\n`, "s"), bad).toEqual({ problem: expect.stringContaining("must be a plain AWS region name") });
    }
    expect(stackRegion("config: [", "s")).toEqual({ problem: expect.stringContaining("not valid YAML") });
    expect(stackRegion("", "s")).toEqual({ problem: expect.stringContaining("aws:region is not set") });
  });

  it("needs --stack", async () => {
    expect((await cli(["region"])).code).toBe(2);
  });

  it("writes the region as a step output with --github-output, and nothing when it has none", async () => {
    const output = path.join(tempDir(), "github-output");
    fs.writeFileSync(output, "");
    vi.stubEnv("GITHUB_OUTPUT", output);
    expect(await cli(["region", "--stack", "prod", "--dir", ROOT, "--github-output", "region"])).toMatchObject({ code: 0, out: "eu-central-1" });
    expect(fs.readFileSync(output, "utf8")).toBe("region=eu-central-1\n");

    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config: {}\n");
    expect((await cli(["region", "--stack", "dev", "--dir", dir, "--github-output", "region"])).code).toBe(1);
    expect(fs.readFileSync(output, "utf8")).toBe("region=eu-central-1\n");
    expect((await cli(["region", "--stack", "prod", "--dir", ROOT, "--github-output", "re gion"])).code).toBe(2);

    // Outside a workflow step there is no output file to write: a failure, not a silent success.
    vi.stubEnv("GITHUB_OUTPUT", undefined);
    const outside = await cli(["region", "--stack", "prod", "--dir", ROOT, "--github-output", "region"]);
    expect(outside.code).toBe(1);
    expect(outside.err).toContain("GITHUB_OUTPUT is not set");
  });
});

describe("step outputs", () => {
  it("are one NAME=VALUE line each; a value with a line break would set another and is refused", () => {
    const file = path.join(tempDir(), "github-output");
    expect(writeGitHubOutput("logins", "alice,bob", { GITHUB_OUTPUT: file })).toBeUndefined();
    expect(writeGitHubOutput("logins", "alice\nregion=x", { GITHUB_OUTPUT: file })).toBe("the logins output must be one line");
    expect(writeGitHubOutput("a=b", "x", { GITHUB_OUTPUT: file })).toContain("must be a step output name");
    expect(writeGitHubOutput("x", "y", { GITHUB_OUTPUT: path.join(file, "not-a-folder", "f") })).toContain("cannot write the step output");
    expect(fs.readFileSync(file, "utf8")).toBe("logins=alice,bob\n");
  });
});

describe("nexus ci report-errors", () => {
  const report = {
    diagnostics: [
      { severity: "info", message: "refreshing" },
      { severity: "error", urn: "urn:pulumi:prod::nexus::aws:s3/bucket:Bucket::backups", message: "AccessDenied: no permission\nto read the bucket\n" },
      { severity: "error", message: "preview failed" },
      { severity: "warning", message: "deprecated" },
    ],
  };

  it("picks the error diagnostics of a pulumi JSON report", () => {
    expect(errorDiagnostics(JSON.stringify(report))).toEqual({
      errors: [
        { urn: "urn:pulumi:prod::nexus::aws:s3/bucket:Bucket::backups", message: "AccessDenied: no permission\nto read the bucket" },
        { message: "preview failed" },
      ],
    });
    expect(errorDiagnostics(JSON.stringify({ steps: [] }))).toEqual({ errors: [] });
    expect(errorDiagnostics("error: could not log in")).toEqual({ problem: expect.stringContaining("not JSON") });
    expect(errorDiagnostics(undefined)).toEqual({ problem: "pulumi wrote no JSON report" });
  });

  it("shows each as an annotation under GitHub Actions and always exits 0", async () => {
    const file = path.join(tempDir(), "drift.json");
    fs.writeFileSync(file, JSON.stringify(report));
    vi.stubEnv("GITHUB_ACTIONS", "true");
    const run = await cli(["report-errors", "--report", file]);
    expect(run.code).toBe(0);
    expect(run.err.split("\n")).toEqual([
      "::error title=urn%3Apulumi%3Aprod%3A%3Anexus%3A%3Aaws%3As3/bucket%3ABucket%3A%3Abackups::AccessDenied: no permission%0Ato read the bucket",
      "::error::preview failed",
    ]);
    const missing = await cli(["report-errors", "--report", path.join(path.dirname(file), "none.json")]);
    expect(missing.code).toBe(0);
    expect(missing.err).toContain("no diagnostics to show");
    expect((await cli(["report-errors"])).code).toBe(2);
  });
});

describe("annotations", () => {
  it("escape what would end a workflow command early, and are plain lines outside Actions", () => {
    expect(annotation("warning", "100% done\r\nnext", { title: "a:b,c" }, { GITHUB_ACTIONS: "true" })).toBe("::warning title=a%3Ab%2Cc::100%25 done%0D%0Anext");
    expect(annotation("error", "broken", { title: "Gate" }, {})).toBe("nexus: error: Gate: broken");
  });
});
