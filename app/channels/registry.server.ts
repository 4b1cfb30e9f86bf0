import { readFileSync } from "node:fs";
import { getEnv } from "~/lib/env.server";
import { createSesAdapter, type SesConfig } from "./ses/adapter.server";
import { createSmsAdapter, type SmsConfig } from "./sms-twilio/adapter.server";
import { createSmtpAdapter, type SmtpConfig } from "./smtp/adapter.server";
import { createTelegramAdapter, type TelegramConfig } from "./telegram/adapter.server";
import type { ChannelAdapter } from "./types";
import { createWhatsAppAdapter, type WhatsAppConfig } from "./whatsapp-cloud/adapter.server";

/**
 * Builds a fresh adapter for one integration from its decrypted config, pointed at the
 * provider base URLs of the environment (the real services by default; fakes in tests).
 */
export type AdapterSpec =
  | { provider: "whatsapp"; config: WhatsAppConfig }
  | { provider: "email-ses"; config: SesConfig }
  | { provider: "email-smtp"; config: SmtpConfig }
  | { provider: "sms"; config: SmsConfig }
  | { provider: "telegram"; config: TelegramConfig };

export interface AdapterOptions {
  /** This integration's public webhook URL (SMS signatures cover it; Telegram registers it). */
  webhookUrl?: string;
  /** SES: records the first SNS topic seen as the integration's own (see the SES adapter). */
  pinSnsTopic?: (topicArn: string) => string;
}

const caFiles = new Map<string, string>();

/** SMTP_CA_FILE's certificates, read once per path (validated at boot by the env module). */
function extraCa(path: string): string {
  let pem = caFiles.get(path);
  if (pem === undefined) {
    pem = readFileSync(path, "utf8");
    caFiles.set(path, pem);
  }
  return pem;
}

export function createAdapter(spec: AdapterSpec, options: AdapterOptions = {}): ChannelAdapter {
  const env = getEnv();
  switch (spec.provider) {
    case "whatsapp":
      return createWhatsAppAdapter(spec.config, {
        baseUrl: env.WHATSAPP_API_BASE_URL,
        timeoutMs: env.PROVIDER_TIMEOUT_MS,
      });
    case "email-ses":
      return createSesAdapter(spec.config, {
        endpoint: env.SES_ENDPOINT,
        snsCertOrigins: env.SNS_CERT_ORIGINS,
        pinSnsTopic: options.pinSnsTopic,
        timeoutMs: env.PROVIDER_TIMEOUT_MS,
      });
    case "email-smtp":
      return createSmtpAdapter(spec.config, {
        timeoutMs: env.PROVIDER_TIMEOUT_MS,
        ca: env.SMTP_CA_FILE ? extraCa(env.SMTP_CA_FILE) : undefined,
      });
    case "sms":
      return createSmsAdapter(spec.config, {
        baseUrl: env.SMS_API_BASE_URL,
        statusCallbackUrl: options.webhookUrl,
        timeoutMs: env.PROVIDER_TIMEOUT_MS,
      });
    case "telegram":
      return createTelegramAdapter(spec.config, {
        baseUrl: env.TELEGRAM_API_BASE_URL,
        timeoutMs: env.PROVIDER_TIMEOUT_MS,
      });
  }
}
