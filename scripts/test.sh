#!/usr/bin/env bash
# `npm test`: everything, in order of cost. Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results
rm -f test-results/vitest.json test-results/playwright.json

echo "== typecheck" && npm run -s typecheck
echo "== lint" && npm run -s lint
echo "== build" && npm run -s build
echo "== unit and integration (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json
echo "== end-to-end (Playwright, Chromium)"
bash scripts/ensure-chromium.sh
CI=1 npx playwright test
node --import tsx scripts/test-summary.ts
