#!/usr/bin/env bash
# `npm run chaos -- --runs N`: the chaos project (every fault scenario N times: single broker, cluster, the long
# Jaeger and Kafka outages) against the real stack, writing the report table to CHAOS.md. Ends with
# `N passed, N failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=1
extra=()
while (($#)); do
  case "$1" in
    --runs) (($# >= 2)) || { echo "chaos: --runs needs a number" >&2; exit 2; }; runs="$2"; shift 2 ;;
    --runs=*) runs="${1#--runs=}"; shift ;;
    -h|--help) echo "usage: npm run chaos -- [--runs N] [jest arguments, e.g. a test path]"; exit 0 ;;
    *) extra+=("$1"); shift ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "chaos: --runs $runs: expected a positive integer" >&2; exit 2; }

export OKJ_CHAOS_RUNS="$runs"
# A selection (jest arguments) writes its partial report elsewhere unless told where: CHAOS.md is the whole run.
if ((${#extra[@]})); then
  report="${OKJ_CHAOS_REPORT:-${TMPDIR:-/tmp}/okj-chaos-report.md}"
else
  report="${OKJ_CHAOS_REPORT:-$PWD/CHAOS.md}"
fi
# Every run's result, appended by test/chaos/chaos.ts; the report is written from it once all files ran.
OKJ_CHAOS_RESULTS="$(mktemp -t okj-chaos-XXXXXX.jsonl)"
export OKJ_CHAOS_RESULTS
status=0
bash scripts/test.sh ${extra[@]+"${extra[@]}"} --selectProjects chaos || status=$?
if [[ -s "$OKJ_CHAOS_RESULTS" ]]; then
  if npx tsx test/chaos/write-report.ts "$OKJ_CHAOS_RESULTS" "$report" "$runs" "${extra[*]:-}"; then
    # The report as `npm run lint` (prettier --check .) wants it committed.
    npx prettier --log-level warn --write "$report" || true
    echo "chaos: report written to $report"
    rm -f "$OKJ_CHAOS_RESULTS"
  else
    status=1
    echo "chaos: could not write the report; the runs' results are kept in $OKJ_CHAOS_RESULTS" >&2
  fi
else
  rm -f "$OKJ_CHAOS_RESULTS"
fi
exit "$status"
