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
npx jest --ci --json --outputFile="$results" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' "$results" || status=1
exit "$status"
