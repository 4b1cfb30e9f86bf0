import { CHANNEL_LABELS, isChannel, type Channel } from "~/lib/channels";

/**
 * What a price is per, for each channel (the units the campaign review counts): WhatsApp by
 * Meta's template category, SMS by segment, email and Telegram by message. Kept apart from
 * *.server files so the settings page names its inputs the way the server reads them.
 */

export const WHATSAPP_CATEGORIES = ["MARKETING", "UTILITY", "AUTHENTICATION"] as const;

export const PRICE_UNITS: Record<Channel, readonly string[]> = {
  whatsapp: WHATSAPP_CATEGORIES,
  sms: ["segment"],
  email: ["message"],
  telegram: ["message"],
};

export const UNIT_LABELS: Record<string, string> = {
  MARKETING: "per marketing message",
  UTILITY: "per utility message",
  AUTHENTICATION: "per authentication message",
  segment: "per segment",
  message: "per message",
};

/** The country of a row that prices every country without a row of its own. */
export const ANY_COUNTRY = "*";

export interface PriceKeyParts {
  channel: Channel;
  unit: string;
  country: string;
}

/** One row's form name, e.g. "sms:segment:IN". */
export function priceKey(row: PriceKeyParts): string {
  return `${row.channel}:${row.unit}:${row.country}`;
}

/** The parts of a form name when channel and unit are ones we price; null otherwise. */
export function parsePriceKey(key: string): PriceKeyParts | null {
  const [channel, unit, country, extra] = key.split(":");
  if (extra !== undefined || !channel || !unit || !country) return null;
  if (!isChannel(channel)) return null;
  if (!PRICE_UNITS[channel].includes(unit)) return null;
  return { channel, unit, country };
}

/** The accessible name of a price input: "SMS price for IN per segment". */
export function priceLabel(row: PriceKeyParts): string {
  const where = row.country === ANY_COUNTRY ? "other countries" : row.country;
  return `${CHANNEL_LABELS[row.channel]} price for ${where} ${UNIT_LABELS[row.unit] ?? row.unit}`;
}

/** The paid channels first. */
const TABLE_ORDER: readonly Channel[] = ["whatsapp", "sms", "email", "telegram"];

/** Every channel/unit pair, in the order the table lists them. */
export const PRICE_KINDS: { channel: Channel; unit: string }[] = TABLE_ORDER.flatMap((channel) =>
  PRICE_UNITS[channel].map((unit) => ({ channel, unit })),
);
