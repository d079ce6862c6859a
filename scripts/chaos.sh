#!/usr/bin/env bash
# `npm run chaos -- --runs N`: the chaos project (every cluster fault scenario N times, and the long Jaeger
# outage) against the real stack, writing the report table to CHAOS.md. Ends with `N passed, N failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=1
while (($#)); do
  case "$1" in
    --runs) runs="${2:-}"; shift 2 ;;
    --runs=*) runs="${1#--runs=}"; shift ;;
    *) echo "usage: npm run chaos -- [--runs N]" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "chaos: --runs $runs: expected a positive integer" >&2; exit 2; }

export OKJ_CHAOS_RUNS="$runs"
export OKJ_CHAOS_REPORT="${OKJ_CHAOS_REPORT:-$PWD/CHAOS.md}"
status=0
bash scripts/test.sh --selectProjects chaos || status=$?
# The report as `npm run lint` (prettier --check .) wants it committed.
if [[ -f "$OKJ_CHAOS_REPORT" ]]; then npx prettier --log-level warn --write "$OKJ_CHAOS_REPORT" || true; fi
exit "$status"
