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
        timeoutMs: env.PROVIDER_TIMEOUT_MS,
      });
    case "email-smtp":
      return createSmtpAdapter(spec.config, { timeoutMs: env.PROVIDER_TIMEOUT_MS });
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
