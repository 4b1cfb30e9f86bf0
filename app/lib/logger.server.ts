import pino from "pino";

const LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/**
 * One JSON logger. Its level is read straight from the environment so that importing it never
 * throws; env.server.ts reports a bad LOG_LEVEL with the rest of the configuration.
 * Redaction is a safety net: callers never pass bodies, passwords or tokens.
 */
export const logger = pino(
  {
    level: LEVELS.has(process.env.LOG_LEVEL ?? "") ? process.env.LOG_LEVEL : "info",
    base: { service: "engage" },
    redact: {
      paths: [
        "password",
        "*.password",
        "token",
        "*.token",
        "secret",
        "*.secret",
        "authorization",
        "*.authorization",
        "cookie",
        "*.cookie",
      ],
      censor: "[redacted]",
    },
  },
  // Operator commands keep stdout for their JSON results.
  pino.destination({ dest: process.env.LOG_DESTINATION === "stderr" ? 2 : 1, sync: true }),
);

export type Logger = typeof logger;
