import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Each test file runs in its own process with its own DATA_DIR, so modules that read the
 * environment once (env, logger, db handles) never see another file's data.
 */
process.env.NODE_ENV = "test";
process.env.LOG_LEVEL ??= "silent";
process.env.DATA_DIR = mkdtempSync(join(tmpdir(), "engage-test-"));
process.env.JOBS_ENABLED = "false";
// vitest copies Vite's import.meta.env into process.env, and its BASE_URL ("/") is not a URL;
// the app then reads the same default as a server started without BASE_URL.
if (process.env.BASE_URL === "/") delete process.env.BASE_URL;
