#!/usr/bin/env bash
# `npm run demo`: install what is missing, build the package the examples import, run the outage demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
npm run --silent build >/dev/null
exec npx tsx scripts/demo.ts "$@"
