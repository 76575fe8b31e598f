/**
 * The audit report's Backups table: each backup task as a record of processing needs it, with the
 * legal basis its gdpr section declares.
 */
import { describe, expect, it } from "vitest";
import { backupsSection, renderMarkdown } from "../../cmd/audit/markdown";
import { reportBackups } from "../../cmd/audit/sections";
import { backupTask, task } from "../support/fixtures";
import { complianceReport } from "./support";

const PERSONAL = backupTask({
  backup: {
    method: "postgres-dump",
    destination: { prefix: "db/", objectLock: false },
    retention: { days: 45, keepLast: 3 },
    gdpr: { personalData: true, maxRetentionDays: 30, legalBasis: "contract" },
  },
});
const UNDECLARED = backupTask({
  name: "crm-backup",
  target: "crm",
  backup: { ...PERSONAL.backup!, destination: { prefix: "crm/", objectLock: false }, gdpr: { personalData: true, maxRetentionDays: 30 } },
  source: "registries/automation.yaml:60",
});
const CACHE = backupTask({
  name: "cache-backup",
  target: "cache",
  backup: { method: "redis-snapshot", destination: { prefix: "cache/", objectLock: false }, retention: { days: 7, keepLast: 2 } },
  source: "registries/automation.yaml:80",
});

describe("the audit's backups", () => {
  it("list every backup task with its legal basis, personal data and the days it is kept, and nothing else", () => {
    expect(reportBackups([PERSONAL, task(), UNDECLARED, CACHE])).toEqual([
      {
        task: "cache-backup",
        target: "cache",
        method: "redis-snapshot",
        prefix: "cache/",
        personalData: false,
        legalBasis: null,
        retentionDays: 7,
        maxRetentionDays: null,
        source: "registries/automation.yaml:80",
      },
      {
        task: "crm-backup",
        target: "crm",
        method: "postgres-dump",
        prefix: "crm/",
        personalData: true,
        legalBasis: null,
        retentionDays: 30,
        maxRetentionDays: 30,
        source: "registries/automation.yaml:60",
      },
      {
        task: "db-backup",
        target: "db",
        method: "postgres-dump",
        prefix: "db/",
        personalData: true,
        legalBasis: "contract",
        // The retention of 45 days, capped at the GDPR maximum.
        retentionDays: 30,
        maxRetentionDays: 30,
        source: PERSONAL.source,
      },
    ]);
  });

  it("show the legal basis in a column of the Markdown report, and flag personal data without one", () => {
    const backups = reportBackups([PERSONAL, UNDECLARED, CACHE]);
    expect(backupsSection(complianceReport({ backups }))).toEqual([
      "### Backups",
      "",
      "| Task | Target | Method | Prefix | Personal data, legal basis | Kept (days) | GDPR maximum (days) | Source |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
      "| `cache-backup` | `cache` | redis-snapshot | `cache/` | no | 7 | — | `registries/automation.yaml:80` |",
      "| `crm-backup` | `crm` | postgres-dump | `crm/` | yes, ⚠️ no legal basis declared | 30 | 30 | `registries/automation.yaml:60` |",
      `| \`db-backup\` | \`db\` | postgres-dump | \`db/\` | yes, contract | 30 | 30 | \`${PERSONAL.source}\` |`,
    ]);
    expect(renderMarkdown(complianceReport({ backups }))).toContain("| yes, contract |");
  });
});
