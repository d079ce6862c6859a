#!/usr/bin/env bash
# `npm test`: everything, on a fresh clone of a fresh machine. Installs what is missing, builds the
# package, brings the real Kafka + Jaeger stack up (jest globalSetup), runs the unit and integration
# projects, and ends with a plain `N passed, N failed` line computed from jest's results.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
npm run --silent build >/dev/null
results=$(mktemp -t okj-jest-XXXXXX.json)
# OKJ_TEST_RESULTS=<file> keeps jest's JSON results (per-test durations) there.
trap 'if [ -n "${OKJ_TEST_RESULTS:-}" ]; then cp "$results" "$OKJ_TEST_RESULTS" || true; fi; rm -f "$results"' EXIT
status=0
# The chaos project (slow fault repetitions) runs only through `npm run chaos`.
if [ "$#" -eq 0 ]; then set -- --selectProjects unit integration; fi
npx jest --ci --json --outputFile="$results" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  // A file that fails to load, or whose beforeAll/afterAll throws, fails no test of its own: count it as one
  // failure, so the line never says "0 failed" for a red run.
  const brokenFiles = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed"));
  for (const f of brokenFiles) console.error(`test file failed outside its tests: ${f.name}\n${(f.message || "").slice(0, 2000)}`);
  const failed = r.numFailedTests + brokenFiles.length;
  console.log(`${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' "$results" || status=1
exit "$status"
