import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import ipaddr from "ipaddr.js";
import { z } from "zod";

/**
 * The whole configuration surface, validated once at boot. Every variable here is documented
 * in .env.example and the README; a bad value stops the process with a message naming it.
 */
const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const url = z.url({ protocol: /^https?$/ }).transform((v) => v.replace(/\/+$/, ""));

const intIn = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const base64Key = z
  .string()
  .refine((v) => Buffer.from(v, "base64").length === 32, "must be 32 bytes, base64-encoded");

const TRUST_PROXY_KEYWORDS = new Set(["loopback", "linklocal", "uniquelocal"]);
const trustProxy = z
  .string()
  .trim()
  .refine(
    (v) =>
      v === "false" ||
      /^\d{1,2}$/.test(v) ||
      v.split(",").every((part) => {
        const p = part.trim();
        return TRUST_PROXY_KEYWORDS.has(p) || /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(p);
      }),
    "must be false, a hop count (e.g. 1), or a comma list of loopback/linklocal/uniquelocal/IP/CIDR",
  );

/** Host names (RFC 1123 labels) or IP addresses, comma separated. */
const hostList = z
  .string()
  .transform((v) =>
    v
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  )
  .refine(
    (hosts) =>
      hosts.every(
        (h) =>
          ipaddr.isValid(h.replace(/^\[|\]$/g, "")) ||
          /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(
            h,
          ),
      ),
    "must be a comma list of host names or IP addresses, e.g. relay.internal,10.0.0.5",
  );

/** A readable PEM file holding at least one certificate. */
const pemFile = z.string().refine((path) => {
  try {
    return readFileSync(path, "utf8").includes("-----BEGIN CERTIFICATE-----");
  } catch {
    return false;
  }
}, "must be a readable PEM file with at least one certificate");

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

const EnvSchema = z
  .object({
    NODE_ENV: z.enum(["production", "development", "test"]).default("production"),
    PORT: intIn(0, 65535).default(3000),
    HOST: z.string().min(1).default("0.0.0.0"),
    BASE_URL: url.optional(),
    DATA_DIR: z.string().min(1).default("./data"),
    ENCRYPTION_KEY: base64Key.optional(),
    /** Earlier ENCRYPTION_KEY values, comma separated: still decrypt, never encrypt. */
    ENCRYPTION_KEYS_RETIRED: z
      .string()
      .refine(
        (v) => v.split(",").every((k) => base64Key.safeParse(k.trim()).success),
        "must be a comma list of base64 32-byte keys",
      )
      .optional(),
    SESSION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
    /** HMAC key of the privacy subject index; generated under DATA_DIR/secrets when unset. */
    SUBJECT_INDEX_KEY: base64Key.optional(),
    SESSION_IDLE_MINUTES: intIn(1, 7 * 24 * 60).default(30),
    SESSION_MAX_HOURS: intIn(1, 24 * 30).default(12),
    TRUST_PROXY: trustProxy.default("false"),
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
    MAX_OPEN_TENANT_DBS: intIn(2, 100_000).default(256),
    BODY_LIMIT_BYTES: intIn(1024, 1024 ** 3).default(1024 * 1024),
    IMPORT_MAX_BYTES: intIn(1024, 10 * 1024 ** 3).default(200 * 1024 * 1024),
    JOBS_ENABLED: bool.default(true),
    SHUTDOWN_TIMEOUT_MS: intIn(100, 120_000).default(10_000),
    // Providers. Defaults are the real services; tests and self-hosters point them elsewhere.
    WHATSAPP_API_BASE_URL: url.default("https://graph.facebook.com"),
    SES_ENDPOINT: url.optional(),
    SMS_API_BASE_URL: url.default("https://api.twilio.com"),
    TELEGRAM_API_BASE_URL: url.default("https://api.telegram.org"),
    // Extra origins SNS signing certificates may come from (tests, `npm run fakes`); real SNS
    // hosts (https://sns.<region>.amazonaws.com) are always allowed. Comma-separated.
    SNS_CERT_ORIGINS: z
      .string()
      .optional()
      .transform((v) =>
        v
          ?.split(",")
          .map((o) => o.trim())
          .filter(Boolean),
      ),
    // Messages handed to providers and not yet answered, per workspace: bounds what a crash
    // can send twice, and the memory a dispatch uses.
    DELIVERY_MAX_IN_FLIGHT: intIn(1, 10_000).default(256),
    ANTHROPIC_BASE_URL: url.default("https://api.anthropic.com"),
    // "Write with AI". Unset: the feature says it is not configured (never a crash).
    ANTHROPIC_API_KEY: z.string().trim().min(1).optional(),
    // claude-sonnet-4-5 is deprecated with end of life on 2026-11-30 (SDK 1.14's list).
    ANTHROPIC_MODEL: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._:@-]{1,100}$/, "must be a model id such as claude-sonnet-4-6")
      .default("claude-sonnet-4-6"),
    // Claude must start answering within this (per attempt; one retry); the whole answer may
    // take three times as long before it is abandoned.
    ANTHROPIC_TIMEOUT_MS: intIn(1_000, 600_000).default(30_000),
    // AI copy requests per workspace per hour (the abuse limit; every request is also metered).
    AI_REQUESTS_PER_HOUR: intIn(1, 10_000).default(30),
    // Inbox AI requests (reply drafts, rewrites, summaries) per workspace per hour: a budget of
    // their own, so campaign copy and inbox replies do not starve each other.
    AI_INBOX_REQUESTS_PER_HOUR: intIn(1, 10_000).default(120),
    STRIPE_API_BASE_URL: url.default("https://api.stripe.com"),
    RAZORPAY_API_BASE_URL: url.default("https://api.razorpay.com"),
    // Payment providers: each one's keys all together or none (none: the keyless sandbox).
    STRIPE_SECRET_KEY: z.string().trim().min(1).optional(),
    STRIPE_WEBHOOK_SECRET: z.string().trim().min(1).optional(),
    RAZORPAY_KEY_ID: z.string().trim().min(1).optional(),
    RAZORPAY_KEY_SECRET: z.string().trim().min(1).optional(),
    // The secret set on the Razorpay webhook (not the key secret that signs Checkout answers).
    RAZORPAY_WEBHOOK_SECRET: z.string().trim().min(1).optional(),
    GOOGLE_OAUTH_BASE_URL: url.optional(),
    GOOGLE_CLIENT_ID: z.string().min(1).optional(),
    GOOGLE_CLIENT_SECRET: z.string().min(1).optional(),
    // Platform mail (transactional). With none set, mail is written as .eml under DATA_DIR/mail.
    SES_REGION: z.string().min(1).optional(),
    SES_ACCESS_KEY_ID: z.string().min(1).optional(),
    SES_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    // Where mailto: List-Unsubscribe requests go (a mailbox someone reads); default
    // unsubscribe@<BASE_URL host>. The https one-click link is handled by the app itself.
    UNSUBSCRIBE_MAILTO: z.string().email().optional(),
    // Inbound email (docs/inbound-email.md): the domain whose mail reaches our inbound webhooks.
    // Set, outgoing email gets reply+<token>@ and unsubscribe+<token>@ addresses there.
    INBOUND_EMAIL_DOMAIN: z
      .string()
      .trim()
      .toLowerCase()
      .regex(
        /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
        "must be a domain",
      )
      .optional(),
    // SNS topics whose inbound-mail notifications are taken (comma-separated); unset: any topic
    // with a valid SNS signature (the workspace still comes only from the signed address).
    INBOUND_EMAIL_SNS_TOPIC_ARNS: z
      .string()
      .optional()
      .transform((v) =>
        v
          ?.split(",")
          .map((o) => o.trim())
          .filter(Boolean),
      ),
    DELIVERY_RETRY_BASE_MS: intIn(1, 3_600_000).default(30_000),
    // A provider that has not answered a send within this is treated as unreachable (retried).
    PROVIDER_TIMEOUT_MS: intIn(100, 120_000).default(15_000),
    MAIL_FROM: z.string().min(3).default("Pleisys Engage <no-reply@engage.pleisys.com>"),
    // Tenant-supplied hosts (SMTP) may not be private addresses; these named hosts or
    // addresses may (a self-hosted relay), on any port. Comma-separated.
    OUTBOUND_ALLOWED_PRIVATE_HOSTS: hostList.default([]),
    // Certificate authorities trusted for SMTP TLS besides the system's (a relay with a
    // private CA; the test fakes' self-signed certificates).
    SMTP_CA_FILE: pemFile.optional(),
    // The platform's own SMS account (Twilio-compatible, at SMS_API_BASE_URL): privacy request
    // codes and notices from /dsar, and from workspace portals without an SMS integration.
    // All three or none; with none, those portals ask phone-only requesters for an email.
    PLATFORM_SMS_ACCOUNT_SID: z.string().trim().min(1).optional(),
    PLATFORM_SMS_AUTH_TOKEN: z.string().trim().min(1).optional(),
    /** E.164 number, short code or alphanumeric sender id. */
    PLATFORM_SMS_FROM: z.string().trim().min(1).optional(),
  })
  .superRefine((env, issues) => {
    // Cookies and every link we mail out carry BASE_URL: in production it must be TLS.
    if (env.NODE_ENV === "production" && env.BASE_URL) {
      const url = new URL(env.BASE_URL);
      if (url.protocol !== "https:" && !LOCAL_HOSTS.has(url.hostname)) {
        issues.addIssue({
          code: "custom",
          path: ["BASE_URL"],
          message: "must be an https:// address in production (http:// only for localhost)",
        });
      }
    }
    // A half-configured account would fail at the first call instead of at boot.
    const together = [
      ["PLATFORM_SMS_ACCOUNT_SID", "PLATFORM_SMS_AUTH_TOKEN", "PLATFORM_SMS_FROM"],
      ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"],
      ["RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET"],
    ] as const;
    for (const group of together) {
      const set = group.filter((name) => env[name] !== undefined);
      if (set.length > 0 && set.length < group.length) {
        const missing = group.find((name) => env[name] === undefined)!;
        const all = group.length === 2 ? "both" : "all three";
        issues.addIssue({
          code: "custom",
          path: [missing],
          message: `must be set together with ${set.join(" and ")} (${all}, or none)`,
        });
      }
    }
  })
  .transform((env) => ({
    ...env,
    DATA_DIR: resolve(env.DATA_DIR),
    BASE_URL: env.BASE_URL ?? `http://localhost:${env.PORT || 3000}`,
  }));

export type Env = z.infer<typeof EnvSchema>;

export class EnvError extends Error {}

/** Parses a raw environment; empty strings count as unset so `FOO=` in a file means default. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const raw = Object.fromEntries(
    Object.entries(source).filter(([, v]) => v !== undefined && v !== ""),
  );
  const result = EnvSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0] ?? "environment");
  throw new EnvError(`Invalid environment variable ${name}: ${issue.message}`);
}

let cached: Env | undefined;

export function getEnv(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

/** Reads the environment again (tests that start provider fakes on ephemeral ports). */
export function reloadEnv(): Env {
  cached = undefined;
  return getEnv();
}
