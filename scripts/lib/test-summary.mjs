// The last line of scripts/test: "N passed, N failed" over the lint gate (one test) and every test
// of the unit, integration and node tiers, read from vitest's JSON reports.
//
//   node scripts/lib/test-summary.mjs REPORTS_DIR LINT_EXIT_STATUS
//
// Exits 1 when anything failed. A tier without a report, a suite that failed to load and a
// skipped or todo test all count as failures: none of them proves anything passed.
import fs from "node:fs";
import path from "node:path";

const TIERS = ["unit", "integration", "delivery", "node"];

/** Passed and failed counts of one vitest JSON report, with why anything extra was counted. */
function countReport(report, tier) {
  let passed = report.numPassedTests;
  let failed = report.numFailedTests;
  const notes = [];
  if (report.numTotalTestSuites > 0 && report.numTotalTests === 0) {
    notes.push(`${tier}: suites ran but no test did: counted as one failure`);
    failed += 1;
  }
  // A suite that fails to load (syntax error, failing beforeAll) has no failed test of its own.
  const broken = report.testResults.filter((s) => s.status === "failed" && s.assertionResults.every((a) => a.status !== "failed")).length;
  if (broken > 0) {
    notes.push(`${tier}: ${broken} suite(s) failed outside any test`);
    failed += broken;
  }
  const skipped = report.numPendingTests + report.numTodoTests;
  if (skipped > 0) {
    notes.push(`${tier}: ${skipped} skipped test(s) count as failures`);
    failed += skipped;
  }
  return { passed, failed, notes };
}

function main([reportsDir, lintStatus]) {
  if (!reportsDir || lintStatus === undefined) {
    console.error("usage: node scripts/lib/test-summary.mjs REPORTS_DIR LINT_EXIT_STATUS");
    return 2;
  }
  let passed = 0;
  let failed = 0;
  if (lintStatus === "0") passed += 1;
  else {
    console.log("lint failed: counted as one failure");
    failed += 1;
  }
  for (const tier of TIERS) {
    const file = path.join(reportsDir, `${tier}.json`);
    if (!fs.existsSync(file)) {
      console.log(`${tier} tier produced no report: counted as one failure`);
      failed += 1;
      continue;
    }
    const counts = countReport(JSON.parse(fs.readFileSync(file, "utf8")), tier);
    for (const note of counts.notes) console.log(note);
    passed += counts.passed;
    failed += counts.failed;
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
