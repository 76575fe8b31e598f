import type { Backup } from "../../domain/schema";
import { ENV, backupNamePattern, methodStore, s3Function, toolCheck, waitFor } from "./backup";

/**
 * The restore half of the backups: the script a one-off restore Job runs in the pod of a backup
 * task (`nexus restore`). Pure, like backupScript, which writes what this reads: the same names
 * (`<task>-<UTC timestamp><extension>`), the same destinations and the same environment.
 */

type BackupMethod = Backup["method"];

/** The environment a restore adds to the backup job's. */
export const RESTORE_ENV = {
  /** Restore the newest backup taken at or before this UTC time, as digits YYYYMMDDHHMMSS; unset: the newest. */
  at: "RESTORE_AT",
  /** "1": pick, download and check the backup, leave the target alone. */
  dryRun: "RESTORE_DRY_RUN",
} as const;

/** The loopback port of the private Redis server a snapshot is loaded into. */
export const SCRATCH_REDIS_PORT = 6390;

export interface RestoreScriptTarget {
  /** The backup task: its backups are `<task>-<UTC timestamp><extension>`. */
  task: string;
  /** `<svc>.<ns>.svc` of the target, restored over the network like it was dumped. */
  host: string;
  port: number;
  /** Where the task's backups are: as the backup job writes them (backupScript). */
  destination: "s3" | "pvc";
}

/** The methods a restore Job can restore; a volume archive needs the claim its StatefulSet holds. */
export const RESTORABLE_METHODS: readonly BackupMethod[] = ["postgres-dump", "redis-snapshot"];

interface RestoreParts {
  extension: string;
  tools: string[];
  ready: string;
  /** Lines that restore the checked, gzip-compressed backup "$file" into the target. */
  apply: string[];
}

/** The backups' extension and the target's readiness check, as the backup job has them; a restorable target has one. */
function storeOf(method: BackupMethod, t: RestoreScriptTarget): { extension: string; ready: string } {
  const { extension, ready } = methodStore(method, t.host, t.port);
  if (ready === undefined) throw new Error(`task "${t.task}": method ${method} has no target to wait for`);
  return { extension, ready };
}

function restoreParts(method: BackupMethod, t: RestoreScriptTarget): RestoreParts {
  switch (method) {
    case "postgres-dump":
      return {
        ...storeOf(method, t),
        tools: ["psql", "pg_isready"],
        // The dump drops and recreates each object it holds (--clean --if-exists); one
        // transaction that stops at the first error leaves the database as it was when the
        // replay fails. Connection settings and the password come from the backup job's env.
        apply: [
          ': "${PGPASSWORD:?PGPASSWORD must come from a Secret}"',
          `gzip -dc "$file" | psql --host=${t.host} --port=${t.port} --no-password --quiet --set=ON_ERROR_STOP=1 --single-transaction >/dev/null`,
          `tables="$(psql --host=${t.host} --port=${t.port} --no-password --tuples-only --no-align \\`,
          `  --command="SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")"`,
          'echo "restore: database ${PGDATABASE:-} has $tables tables"',
        ],
      };
    case "redis-snapshot":
      return {
        ...storeOf(method, t),
        tools: ["redis-cli", "redis-server", "xargs", "sed"],
        apply: redisApply(t),
      };
    case "volume-archive":
      throw new Error(
        `task "${t.task}": a volume archive cannot be restored by a Job (its claim is held by the StatefulSet); see the README's restore runbook`,
      );
  }
}

/**
 * An RDB snapshot cannot be replayed through the protocol, and the live server's data directory
 * belongs to its pod. So the snapshot is loaded by a private redis-server on the pod's loopback
 * (the same Redis version as the target: both come from Debian 12) and every key is moved to the
 * target with MIGRATE ... REPLACE, which carries values of every type and their TTLs. The target
 * is flushed first, so it ends up holding exactly the snapshot. The private server shares the
 * target's password (REDISCLI_AUTH, given on stdin, never an argument), so one redis-cli
 * environment talks to both.
 */
function redisApply(t: RestoreScriptTarget): string[] {
  const local = `redis-cli -p ${SCRATCH_REDIS_PORT}`;
  const remote = `redis-cli -h ${t.host} -p ${t.port}`;
  return [
    'work="/tmp/restore-redis"',
    'rm -rf "$work" && mkdir -p "$work"',
    'gzip -dc "$file" >"$work/dump.rdb"',
    // Quoted for the configuration parser: backslashes and double quotes escaped.
    `{ if [ -n "\${REDISCLI_AUTH:-}" ]; then printf 'requirepass "%s"\\n' "$(printf '%s' "$REDISCLI_AUTH" | sed 's/[\\\\"]/\\\\&/g')"; fi; } |`,
    `  redis-server - --bind 127.0.0.1 --port ${SCRATCH_REDIS_PORT} --dir "$work" --dbfilename dump.rdb --save "" --appendonly no >"$work/server.log" 2>&1 &`,
    "server=$!",
    `trap 'kill "$server" 2>/dev/null || true' EXIT`,
    // PING answers LOADING until the snapshot is in memory.
    `until [ "$(${local} ping 2>/dev/null)" = PONG ]; do`,
    '  if ! kill -0 "$server" 2>/dev/null; then echo "restore: the snapshot did not load:" >&2; cat "$work/server.log" >&2; exit 1; fi',
    "  sleep 1",
    "done",
    `dbs="$(${local} info keyspace | sed -n 's/^db\\([0-9][0-9]*\\):keys=\\([0-9][0-9]*\\).*/\\1:\\2/p')"`,
    `reply="$(${remote} flushall)"`,
    'if [ "$reply" != OK ]; then echo "restore: FLUSHALL on the target answered: $reply" >&2; exit 1; fi',
    "for entry in $dbs; do",
    '  db="${entry%%:*}"',
    // Keys one a line (redis-cli --scan); 100 a MIGRATE. A reply other than OK stops xargs.
    `  ${local} -n "$db" --scan | xargs -r -d '\\n' -n 100 sh -c '`,
    `    if [ -n "\${REDISCLI_AUTH:-}" ]; then set -- AUTH "$REDISCLI_AUTH" KEYS "$@"; else set -- KEYS "$@"; fi`,
    `    reply="$(${local} -n "$0" migrate ${t.host} ${t.port} "" "$0" 60000 REPLACE "$@")"`,
    `    if [ "$reply" != OK ]; then echo "restore: MIGRATE to ${t.host}:${t.port} answered: $reply" >&2; exit 1; fi' "$db"`,
    `  echo "restore: db$db: \${entry#*:} keys in the snapshot, $(${remote} -n "$db" dbsize) in the target"`,
    "done",
  ];
}

/**
 * The script of a restore Job. It picks the newest backup of the task taken at or before
 * RESTORE_AT (default: the newest), downloads it (S3) or reads it from the claim, checks it
 * (`gzip -t`) and, unless RESTORE_DRY_RUN is 1, restores it into the target. It fails naming what
 * is missing: a tool, the backup, the target.
 */
export function restoreScript(method: BackupMethod, t: RestoreScriptTarget): string {
  const r = restoreParts(method, t);
  const lines = ["#!/bin/sh", `# ${method} restore for task ${t.task}; generated by the platform (nexus restore).`, "set -eu", ""];
  const tools = ["date", "gzip", "grep", "sort", ...r.tools, ...(t.destination === "s3" ? ["aws"] : ["ls"])];
  lines.push(...toolCheck(tools, "restore"));
  if (t.destination === "s3") {
    lines.push(
      ...s3Function(),
      `: "\${${ENV.bucket}:?}" "\${${ENV.prefix}?}" "\${${ENV.dir}:?}"`,
      `listing="$(s3 s3api list-objects-v2 --bucket "$${ENV.bucket}" --prefix "\${${ENV.prefix}}${t.task}-" --query 'Contents[].[Key]' --output text)"`,
    );
  } else {
    lines.push(`: "\${${ENV.prefix}?}" "\${${ENV.dir}:?}"`, `dir="\${${ENV.dir}}/\${${ENV.prefix}}"`, 'listing="$(ls -1 "$dir")"');
  }
  lines.push(
    // Digits only, so "at or before" is a number comparison; the latest possible time by default.
    `at="\${${RESTORE_ENV.at}:-99991231235959}"`,
    'case "$at" in "" | *[!0-9]*) echo "restore: RESTORE_AT must be digits YYYYMMDDHHMMSS, not $at" >&2; exit 2 ;; esac',
    'chosen=""',
    `for name in $(printf '%s\\n' "$listing" | grep '${backupNamePattern(t.task, r.extension)}' | sort -r); do`,
    `  age="\${name##*${t.task}-}"`,
    '  age="${age%%Z*}"',
    '  age="${age%%T*}${age#*T}"',
    '  if [ "$age" -le "$at" ]; then chosen="$name"; break; fi',
    "done",
    `if [ -z "$chosen" ]; then echo "restore: no backup of ${t.task} taken at or before $at (UTC) in $(printf '%s\\n' "$listing" | grep -c '${backupNamePattern(t.task, r.extension)}' || true) backups" >&2; exit 1; fi`,
  );
  if (t.destination === "s3") {
    lines.push(
      `file="\${${ENV.dir}}/restore${r.extension}"`,
      `s3 s3 cp --only-show-errors "s3://\${${ENV.bucket}}/$chosen" "$file"`,
      `echo "restore: chose s3://\${${ENV.bucket}}/$chosen"`,
    );
  } else {
    lines.push('file="$dir$chosen"', 'echo "restore: chose $file"');
  }
  lines.push(
    'gzip -t "$file"',
    `if [ "\${${RESTORE_ENV.dryRun}:-}" = 1 ]; then echo "restore: dry run: the backup is complete; ${t.host}:${t.port} was not changed"; exit 0; fi`,
    "",
    ...waitFor(r.ready, `${t.host}:${t.port}`, "restore"),
    ...r.apply,
    `echo "restore: restored $chosen into ${t.host}:${t.port}"`,
  );
  return lines.join("\n") + "\n";
}
