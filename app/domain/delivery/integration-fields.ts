import { z } from "zod";
import type { Channel } from "~/lib/channels";

/**
 * What each provider's integration form asks for: field names (camelCase, the same keys the CLI
 * takes in --config), labels, which are secret (shown masked, never sent back to the browser)
 * and the validation of a whole config. Shared by the settings page, the CLI and the domain.
 */

export const PROVIDERS = ["whatsapp", "email-ses", "email-smtp", "sms", "telegram"] as const;
export type Provider = (typeof PROVIDERS)[number];

export const PROVIDER_CHANNEL: Record<Provider, Channel> = {
  whatsapp: "whatsapp",
  "email-ses": "email",
  "email-smtp": "email",
  sms: "sms",
  telegram: "telegram",
};

export const PROVIDER_LABELS: Record<Provider, string> = {
  whatsapp: "WhatsApp Cloud API (Meta)",
  "email-ses": "Amazon SES",
  "email-smtp": "SMTP server",
  sms: "SMS (Twilio-compatible Messages API)",
  telegram: "Telegram bot",
};

export interface FieldSpec {
  name: string;
  label: string;
  secret?: boolean;
  optional?: boolean;
  /** An optional secret that is needed once this other field is filled in (SMTP password). */
  requiredWith?: string;
  hint?: string;
  type?: "text" | "number" | "select";
  options?: readonly string[];
}

/** Meta's messaging limits, smallest first (its scaling path now goes from 250 to 2,000; older accounts may be at 1,000). */
export const WHATSAPP_TIERS = [
  "TIER_250",
  "TIER_1K",
  "TIER_2K",
  "TIER_10K",
  "TIER_100K",
  "TIER_UNLIMITED",
];
/** Mail only goes out encrypted: STARTTLS (required) or implicit TLS. */
export const SMTP_TLS_MODES = ["starttls", "tls"] as const;

export const PROVIDER_FIELDS: Record<Provider, readonly FieldSpec[]> = {
  whatsapp: [
    {
      name: "phoneNumberId",
      label: "Phone number ID",
      hint: "Meta app → WhatsApp → API Setup, under your number. A long number of its own, not the phone number.",
    },
    {
      name: "wabaId",
      label: "WhatsApp Business Account ID",
      hint: "Same page (API Setup), above the phone number ID.",
    },
    {
      name: "accessToken",
      label: "Access token",
      secret: true,
      hint: "A permanent token of a system user: Meta Business Settings → Users → System users → Generate new token, with whatsapp_business_messaging and whatsapp_business_management. The temporary token on API Setup stops working after 24 hours.",
    },
    {
      name: "appSecret",
      label: "App secret",
      secret: true,
      hint: "Meta app → App settings → Basic → App secret (Show). Proves that delivery reports and replies really come from Meta.",
    },
    {
      // Not a credential: Meta shows it in clear in the app's webhook settings, and it only
      // answers the one-time check of the callback URL; so it stays visible here to copy.
      name: "verifyToken",
      label: "Webhook verify token",
      hint: "A phrase you choose (a random one is suggested) and enter again in Meta's webhook settings: Meta sends it once to confirm the callback URL is yours.",
    },
    {
      name: "messagingTier",
      label: "Messaging limit",
      type: "select",
      options: WHATSAPP_TIERS,
      hint: "How many different customers you may message first in any 24 hours: WhatsApp Manager → Phone numbers. Campaign review leaves out recipients beyond it.",
    },
    {
      name: "ratePerSecond",
      label: "Messages per second",
      type: "number",
      hint: "Meta allows 80.",
    },
  ],
  "email-ses": [
    { name: "region", label: "AWS region", hint: "e.g. ap-south-1" },
    { name: "accessKeyId", label: "Access key ID" },
    { name: "secretAccessKey", label: "Secret access key", secret: true },
    { name: "configurationSet", label: "Configuration set", optional: true },
    { name: "fromIdentity", label: "From", hint: "A verified identity, e.g. Shop <news@shop.in>" },
    {
      name: "ratePerSecond",
      label: "Messages per second",
      type: "number",
      optional: true,
      hint: "Read from your SES account by the connection check.",
    },
    {
      name: "snsTopicArn",
      label: "SNS topic ARN",
      optional: true,
      hint: "The topic your configuration set publishes events to. Blank: the topic of the first subscription confirmation is kept. Messages from any other topic are refused.",
    },
  ],
  "email-smtp": [
    { name: "host", label: "SMTP host", hint: "A public mail server." },
    { name: "port", label: "Port", type: "number", hint: "587 or 25 (STARTTLS), 465 (TLS), 2525." },
    {
      name: "tlsMode",
      label: "TLS",
      type: "select",
      options: SMTP_TLS_MODES,
      hint: "starttls: the server must offer STARTTLS; tls: encrypted from the first byte. Mail is never sent unencrypted, and the server's certificate must be valid.",
    },
    { name: "user", label: "User name", optional: true },
    { name: "password", label: "Password", secret: true, optional: true, requiredWith: "user" },
    { name: "fromIdentity", label: "From", hint: "e.g. Shop <news@shop.in>" },
    { name: "ratePerSecond", label: "Messages per second", type: "number", optional: true },
  ],
  sms: [
    { name: "accountSid", label: "Account SID" },
    { name: "authToken", label: "Auth token", secret: true },
    { name: "from", label: "From number or sender ID", optional: true },
    { name: "messagingServiceSid", label: "Messaging service SID", optional: true },
    { name: "dltEntityId", label: "DLT principal entity ID (India)", optional: true },
    { name: "dltSenderHeader", label: "DLT sender header (India)", optional: true },
    { name: "ratePerSecond", label: "Messages per second", type: "number", optional: true },
  ],
  telegram: [
    { name: "botToken", label: "Bot token", secret: true, hint: "From @BotFather." },
    {
      name: "ratePerSecond",
      label: "Messages per second",
      type: "number",
      optional: true,
      hint: "Telegram allows 30 overall and 1 per chat.",
    },
  ],
};

/**
 * The non-secret fields that decide where the stored secrets go (host, port, region, account).
 * Changing one means every secret must be entered again: a stored password is never handed to
 * a destination it was not entered for.
 */
export const TARGET_FIELDS: Record<Provider, readonly string[]> = {
  whatsapp: ["phoneNumberId", "wabaId"],
  "email-ses": ["region", "accessKeyId"],
  "email-smtp": ["host", "port"],
  sms: ["accountSid"],
  telegram: [],
};

/** "SMTP host or Port" for the form's hints and errors. */
export function targetFieldLabels(provider: Provider): string {
  const labels = TARGET_FIELDS[provider].map(
    (name) => PROVIDER_FIELDS[provider].find((f) => f.name === name)?.label ?? name,
  );
  return labels.length <= 1
    ? (labels[0] ?? "")
    : `${labels.slice(0, -1).join(", ")} or ${labels.at(-1)!}`;
}

export const DEFAULT_RATE: Record<Provider, number> = {
  whatsapp: 80,
  "email-ses": 14,
  "email-smtp": 10,
  sms: 10,
  telegram: 30,
};

const required = (label: string) =>
  z
    .string({ error: `${label} is required.` })
    .trim()
    .min(1, `${label} is required.`)
    .max(2000, `${label} is too long.`);
const optional = z
  .string()
  .trim()
  .max(2000)
  .optional()
  .transform((v) => (v ? v : undefined));
const rate = (max: number) =>
  z.coerce
    .number({ error: "Enter a number of messages per second." })
    .int("Enter a whole number of messages per second.")
    .min(1, "At least 1 message per second.")
    .max(max, `At most ${max} messages per second.`)
    .optional();
/** arn:<partition>:sns:<region>:<12-digit account>:<topic name> (FIFO topics end in .fifo). */
export const SNS_TOPIC_ARN =
  /^arn:aws(-[a-z]+)*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const digits = (label: string) => required(label).regex(/^\d{5,25}$/, `${label} is a number.`);
const identity = required("From").refine(
  (v) => /^[^<>]*<[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>$|^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(v),
  "From must be an email address, optionally with a name: Shop <news@shop.in>.",
);

export const PROVIDER_SCHEMAS = {
  whatsapp: z.object({
    phoneNumberId: digits("Phone number ID"),
    wabaId: digits("WhatsApp Business Account ID"),
    accessToken: required("Access token"),
    appSecret: required("App secret"),
    verifyToken: required("Webhook verify token"),
    messagingTier: z
      .enum(WHATSAPP_TIERS as [string, ...string[]], { error: "Choose a messaging limit." })
      .default("TIER_1K"),
    ratePerSecond: rate(1000),
  }),
  "email-ses": z.object({
    region: required("AWS region").regex(
      /^[a-z]{2}(-[a-z]+)+-\d$/,
      "Enter a region like ap-south-1.",
    ),
    accessKeyId: required("Access key ID"),
    secretAccessKey: required("Secret access key"),
    configurationSet: optional,
    fromIdentity: identity,
    ratePerSecond: rate(10_000),
    snsTopicArn: optional.refine(
      (v) => v === undefined || SNS_TOPIC_ARN.test(v),
      "Enter a topic ARN like arn:aws:sns:ap-south-1:123456789012:ses-events.",
    ),
  }),
  "email-smtp": z.object({
    host: required("SMTP host").regex(
      /^[A-Za-z0-9.-]+$|^\[[0-9a-fA-F:.]+\]$/,
      "Enter a host name.",
    ),
    port: z.coerce
      .number({ error: "Enter a port number." })
      .int("Enter a port number.")
      .min(1, "Enter a port number.")
      .max(65535, "Enter a port number.")
      .default(587),
    tlsMode: z.enum(SMTP_TLS_MODES, { error: "Choose starttls or tls." }).default("starttls"),
    user: optional,
    password: optional,
    fromIdentity: identity,
    ratePerSecond: rate(1000),
  }),
  sms: z
    .object({
      accountSid: required("Account SID"),
      authToken: required("Auth token"),
      from: optional,
      messagingServiceSid: optional,
      dltEntityId: optional,
      dltSenderHeader: optional,
      ratePerSecond: rate(1000),
    })
    .refine((c) => c.from || c.messagingServiceSid || c.dltSenderHeader, {
      message: "Enter a From number, a messaging service SID or a DLT sender header.",
      path: ["from"],
    }),
  telegram: z.object({
    botToken: required("Bot token").regex(/^\d+:[A-Za-z0-9_-]{20,}$/, "That is not a bot token."),
    ratePerSecond: rate(30),
  }),
} satisfies Record<Provider, z.ZodType>;

export type ProviderConfig<P extends Provider> = z.infer<(typeof PROVIDER_SCHEMAS)[P]>;

/** Secret values are never echoed: the page shows the last 4 characters at most. */
export function maskSecret(value: string): string {
  return value.length <= 8 ? "••••" : `••••${value.slice(-4)}`;
}
