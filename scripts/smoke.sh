#!/usr/bin/env bash
# `npm run smoke`: install what is missing, then run the smoke scenario on the real stack.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
npx tsx scripts/smoke.ts
