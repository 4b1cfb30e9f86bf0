/** The channels messages go out on; consent and suppression are kept per channel. */
export const CHANNELS = ["email", "whatsapp", "sms", "telegram"] as const;
export type Channel = (typeof CHANNELS)[number];

/** Whether untrusted text (a URL parameter, a form field, a token) names one of the channels. */
export function isChannel(value: string): value is Channel {
  return (CHANNELS as readonly string[]).includes(value);
}

export const CHANNEL_LABELS: Record<Channel, string> = {
  email: "Email",
  whatsapp: "WhatsApp",
  sms: "SMS",
  telegram: "Telegram",
};
