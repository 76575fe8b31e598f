/**
 * The restore script, run under sh with stand-ins for psql and the aws CLI (the backup script's
 * own fake S3): which backup it picks, what it gives psql, what a dry run leaves alone, and how it
 * fails. The Redis restore needs a redis-server; its script is checked as text here.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backupScript, type BackupScriptTarget } from "../../../components/builders/backup";
import { RESTORABLE_METHODS, RESTORE_ENV, SCRATCH_REDIS_PORT, restoreScript, type RestoreScriptTarget } from "../../../components/builders/restore";
import { FAKE_AWS, nameDaysAgo } from "../../support/fakeAws";

const S3: RestoreScriptTarget = { task: "db-backup", host: "db.data.svc", port: 5432, destination: "s3" };

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** A pod's view: stub tools first on PATH, a fake S3 bucket "b", the claim or scratch at backup/. */
function sandbox(psql = 'cat >>"$PSQL_INPUT"') {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-restore-"));
  dirs.push(root);
  const bin = path.join(root, "bin");
  for (const d of [bin, path.join(root, "backup"), path.join(root, "s3", "b")]) fs.mkdirSync(d, { recursive: true });
  const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  // psql: the replay reads stdin; the table count is a --command.
  stub("psql", `echo "$*" >>"$PSQL_ARGS"; case "$*" in *--command=*) echo 3 ;; *) ${psql} ;; esac`);
  stub("pg_isready", "exit 0");
  stub("pg_dump", 'for a; do case "$a" in --file=*) f="${a#--file=}";; esac; done\necho "$DUMP_TEXT" | gzip -c >"$f"');
  stub("sleep", "exit 0");
  fs.writeFileSync(path.join(bin, "aws"), FAKE_AWS, { mode: 0o755 });
  const env = {
    PATH: `${bin}:/usr/bin:/bin`,
    BACKUP_DIR: path.join(root, "backup"),
    BACKUP_BUCKET: "b",
    BACKUP_PREFIX: "db/",
    FAKE_S3: path.join(root, "s3"),
    AWS_LOG: path.join(root, "aws.log"),
    PSQL_INPUT: path.join(root, "psql.in"),
    PSQL_ARGS: path.join(root, "psql.args"),
    PGPASSWORD: "x",
  };
  const run = (script: string, extra: Record<string, string> = {}) => spawnSync("/bin/sh", ["-c", script], { env: { ...env, ...extra }, encoding: "utf8" });
  /** A backup named like the backup script names them, holding `sql`, in the bucket or a claim folder. */
  const seed = (name: string, sql: string, where = path.join(root, "s3", "b", "db")) => {
    fs.mkdirSync(where, { recursive: true });
    fs.writeFileSync(path.join(where, name), spawnSync("gzip", ["-c"], { input: sql }).stdout);
  };
  const read = (file: string) => (fs.existsSync(path.join(root, file)) ? fs.readFileSync(path.join(root, file), "utf8") : "");
  return { root, run, seed, read };
}

/** Digits YYYYMMDDHHMMSS of a backup name's timestamp. */
const digits = (name: string) => /-(\d{8})T(\d{6})Z/.exec(name)!.slice(1).join("");

describe("restoreScript for a postgres dump", () => {
  it("replays the newest backup through psql in one transaction that stops at the first error", () => {
    const { run, seed, read } = sandbox();
    const [older, newest] = [nameDaysAgo("db-backup", 3), nameDaysAgo("db-backup", 1)];
    seed(older, "-- older\n");
    seed(newest, "-- newest\n");
    seed(nameDaysAgo("other-backup", 0), "-- another task\n");
    const r = run(restoreScript("postgres-dump", S3));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(read("psql.in")).toBe("-- newest\n");
    expect(read("psql.args").split("\n")[0]).toBe("--host=db.data.svc --port=5432 --no-password --quiet --set=ON_ERROR_STOP=1 --single-transaction");
    expect(r.stdout).toContain(`restore: chose s3://b/db/${newest}`);
    expect(r.stdout).toContain("restore: database  has 3 tables");
    expect(r.stdout).toContain(`restore: restored db/${newest} into db.data.svc:5432`);
  });

  it("restores the newest backup taken at or before RESTORE_AT, and fails when there is none", () => {
    const { run, seed, read } = sandbox();
    const names = [nameDaysAgo("db-backup", 10), nameDaysAgo("db-backup", 5), nameDaysAgo("db-backup", 1)];
    names.forEach((n, i) => seed(n, `-- backup ${i}\n`));
    // Exactly the middle one's time: "at or before" includes it.
    expect(run(restoreScript("postgres-dump", S3), { [RESTORE_ENV.at]: digits(names[1]!) }).status).toBe(0);
    expect(read("psql.in")).toBe("-- backup 1\n");

    const none = run(restoreScript("postgres-dump", S3), { [RESTORE_ENV.at]: "20000101000000" });
    expect(none.status).toBe(1);
    expect(none.stderr).toContain("restore: no backup of db-backup taken at or before 20000101000000 (UTC) in 3 backups");
    const bad = run(restoreScript("postgres-dump", S3), { [RESTORE_ENV.at]: "yesterday" });
    expect(bad.status).toBe(2);
  });

  it("leaves the target alone in a dry run, after checking the backup is complete", () => {
    const { run, seed, read, root } = sandbox();
    const name = nameDaysAgo("db-backup", 1);
    seed(name, "-- dump\n");
    const r = run(restoreScript("postgres-dump", S3), { [RESTORE_ENV.dryRun]: "1" });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("restore: dry run: the backup is complete; db.data.svc:5432 was not changed");
    expect(read("psql.args")).toBe("");

    // A truncated backup fails the check, dry run or not.
    fs.writeFileSync(path.join(root, "s3", "b", "db", name), Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    expect(run(restoreScript("postgres-dump", S3), { [RESTORE_ENV.dryRun]: "1" }).status).not.toBe(0);
  });

  it("fails when psql fails, and reads a claim's backups in place", () => {
    const failing = sandbox('cat >/dev/null; echo "ERROR: relation exists" >&2; exit 3');
    failing.seed(nameDaysAgo("db-backup", 1), "-- dump\n");
    const r = failing.run(restoreScript("postgres-dump", S3));
    expect(r.status).toBe(3);
    expect(r.stdout).not.toContain("restore: restored");

    const claim = sandbox();
    const name = nameDaysAgo("db-backup", 1);
    claim.seed(name, "-- from the claim\n", path.join(claim.root, "backup", "db"));
    const r2 = claim.run(restoreScript("postgres-dump", { ...S3, destination: "pvc" }));
    expect(r2.stderr).toBe("");
    expect(r2.status).toBe(0);
    expect(claim.read("psql.in")).toBe("-- from the claim\n");
    expect(claim.read("aws.log")).toBe("");
  });

  it("restores what the backup script wrote to the store: one round trip through the same names and store", () => {
    const { run, read } = sandbox();
    const backup: BackupScriptTarget = { ...S3, retentionDays: 7, keepLast: 3, maxAgeDays: 37 };
    const env = { BACKUP_ENDPOINT: "http://10.244.0.1:9000", DUMP_TEXT: "CREATE TABLE items (id int);" };
    expect(run(backupScript("postgres-dump", backup), env).status).toBe(0);
    const r = run(restoreScript("postgres-dump", S3), env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(read("psql.in")).toBe("CREATE TABLE items (id int);\n");
    expect(
      read("aws.log")
        .trim()
        .split("\n")
        .every((c) => c.startsWith("--endpoint-url http://10.244.0.1:9000 ")),
    ).toBe(true);
  });
});

describe("restoreScript for a redis snapshot", () => {
  const script = restoreScript("redis-snapshot", { ...S3, task: "cache-backup", host: "redis.data.svc", port: 6379 });

  it("loads the snapshot into a private server on the loopback and moves every key to the flushed target", () => {
    expect(script).toContain("for tool in date gzip grep sort redis-cli redis-server xargs sed aws; do");
    expect(script).toContain(`redis-server - --bind 127.0.0.1 --port ${SCRATCH_REDIS_PORT} --dir "$work" --dbfilename dump.rdb --save "" --appendonly no`);
    expect(script).toContain('reply="$(redis-cli -h redis.data.svc -p 6379 flushall)"');
    expect(script).toContain(`migrate redis.data.svc 6379 "" "$0" 60000 REPLACE "$@"`);
    // The password reaches the private server on stdin, never as an argument of redis-server,
    // quoted for its configuration parser.
    expect(script).not.toMatch(/redis-server[^\n]*REDISCLI_AUTH/);
    const config = script
      .split("\n")
      .find((l) => l.includes("requirepass"))!
      .replace(/ \|$/, "");
    const r = spawnSync("/bin/sh", ["-c", config], { env: { PATH: "/usr/bin:/bin", REDISCLI_AUTH: 'p@ss w"rd\\x' }, encoding: "utf8" });
    expect(r.stdout).toBe('requirepass "p@ss w\\"rd\\\\x"\n');
    expect(spawnSync("/bin/sh", ["-c", config], { env: { PATH: "/usr/bin:/bin" }, encoding: "utf8" }).stdout).toBe("");
  });

  it("picks the newest snapshot like a dump, and a dry run leaves the target alone", () => {
    const { root, run, seed } = sandbox();
    const [older, newest] = [nameDaysAgo("cache-backup", 2, ".rdb.gz"), nameDaysAgo("cache-backup", 1, ".rdb.gz")];
    const where = path.join(root, "s3", "b", "cache");
    seed(older, "REDIS0010 older", where);
    seed(newest, "REDIS0010 newest", where);
    // Redis tools that only record being called: a dry run must call none of them.
    for (const tool of ["redis-cli", "redis-server"]) {
      fs.writeFileSync(
        path.join(root, "bin", tool),
        `#!/bin/sh
echo "${tool} $*" >>"${root}/redis.calls"
`,
        { mode: 0o755 },
      );
    }
    const r = run(script, { BACKUP_PREFIX: "cache/", [RESTORE_ENV.dryRun]: "1" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`restore: chose s3://b/cache/${newest}`);
    expect(fs.existsSync(path.join(root, "redis.calls"))).toBe(false);
  });

  it("refuses a volume archive, whose claim the StatefulSet holds", () => {
    expect(RESTORABLE_METHODS).not.toContain("volume-archive");
    expect(() => restoreScript("volume-archive", S3)).toThrow(/volume archive cannot be restored by a Job/);
  });
});
