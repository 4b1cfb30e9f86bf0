/** The channels messages go out on; consent and suppression are kept per channel. */
export const CHANNELS = ["email", "whatsapp", "sms", "telegram"] as const;
export type Channel = (typeof CHANNELS)[number];

export const CHANNEL_LABELS: Record<Channel, string> = {
  email: "Email",
  whatsapp: "WhatsApp",
  sms: "SMS",
  telegram: "Telegram",
};
