import { readFileSync } from "node:fs";

/** One closing line for the whole suite, summing vitest and Playwright. */
const vitest = JSON.parse(readFileSync("test-results/vitest.json", "utf8")) as {
  numPassedTests: number;
  numFailedTests: number;
};
const playwright = JSON.parse(readFileSync("test-results/playwright.json", "utf8")) as {
  stats: { expected: number; unexpected: number; flaky: number };
};
const passed = vitest.numPassedTests + playwright.stats.expected;
const failed = vitest.numFailedTests + playwright.stats.unexpected + playwright.stats.flaky;
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
