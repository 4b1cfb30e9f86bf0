import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FAKE_ANTHROPIC_API_KEY } from "./tests/fakes/anthropic";
import { FAKE_GOOGLE_CLIENT_ID, FAKE_GOOGLE_CLIENT_SECRET } from "./tests/fakes/google";
import { fakeFactories } from "./tests/fakes/registry";

const port = Number(process.env.E2E_PORT ?? 3210);
const baseURL = `http://127.0.0.1:${port}`;
// The provider fakes (tests/fakes) on fixed ports next to the app, in registry order.
const fakesPort = port + 10;
const fakeUrl = (name: string) =>
  `http://127.0.0.1:${fakesPort + Object.keys(fakeFactories).indexOf(name)}`;
// Workers load this file again: the variable carries the server's data dir to them, where
// tests/e2e/support.ts creates accounts with the operator CLI.
process.env.E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), "engage-e2e-"));

/**
 * End-to-end tests drive Debian's Chromium (Playwright cannot download its own browser here)
 * against the real server on its own temporary DATA_DIR.
 */
export default defineConfig({
  testDir: "tests/e2e",
  // Playwright empties its output folder at start; test-results/vitest.json must survive.
  outputDir: "test-results/playwright",
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  timeout: 30_000,
  reporter: process.env.CI
    ? [["list"], ["json", { outputFile: "test-results/playwright.json" }]]
    : "list",
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      command: "node --import tsx tests/fakes/run.ts",
      port: fakesPort,
      reuseExistingServer: false,
      timeout: 60_000,
      env: { FAKES_BASE_PORT: String(fakesPort) },
    },
    {
      command: "node --import tsx server.ts",
      url: `${baseURL}/healthz`,
      reuseExistingServer: false,
      timeout: 120_000,
      env: {
        NODE_ENV: "test",
        PORT: String(port),
        HOST: "127.0.0.1",
        BASE_URL: baseURL,
        DATA_DIR: process.env.E2E_DATA_DIR,
        // The delivery dispatcher runs with the jobs: sandbox messages must reach "delivered".
        JOBS_ENABLED: "true",
        // Each person a spec plays arrives from an address of their own (X-Forwarded-For from
        // the loopback client), so per-address limits apply as in production behind a proxy.
        TRUST_PROXY: "loopback",
        LOG_LEVEL: "warn",
        GOOGLE_OAUTH_BASE_URL: fakeUrl("google"),
        GOOGLE_CLIENT_ID: FAKE_GOOGLE_CLIENT_ID,
        GOOGLE_CLIENT_SECRET: FAKE_GOOGLE_CLIENT_SECRET,
        ANTHROPIC_BASE_URL: fakeUrl("anthropic"),
        ANTHROPIC_API_KEY: FAKE_ANTHROPIC_API_KEY,
        // Saving a channel checks it with the provider: the fakes answer, never the real APIs.
        WHATSAPP_API_BASE_URL: fakeUrl("whatsapp"),
        SES_ENDPOINT: fakeUrl("ses"),
        SMS_API_BASE_URL: fakeUrl("sms"),
        TELEGRAM_API_BASE_URL: fakeUrl("telegram"),
        PROVIDER_TIMEOUT_MS: "5000",
      },
    },
  ],
});
