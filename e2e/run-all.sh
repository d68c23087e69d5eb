#!/usr/bin/env bash
# `npm test`: the whole suite. Lint, types, unit and integration tests (Vitest, on a real
# embedded Postgres), a production build, then the Playwright journeys in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

step() { printf '\n\033[1m▸ %s\033[0m\n' "$*"; }

step "chromium"; bash e2e/ensure-chromium.sh
step "lint"; npx eslint . --max-warnings 0
step "types"; npx tsc --noEmit
step "unit + integration tests"; npx vitest run
step "production build"; node node_modules/next/dist/bin/next build
step "end-to-end tests"; npx playwright test
