import type { TenantDb } from "~/db/tenants.server";
import type { Channel } from "~/lib/channels";
import { suppressionHash, suppressionKey } from "../contacts/suppression-hash.server";

/**
 * What a campaign will do, computed before anything is queued: who is in
 * the audience, who will be skipped and why, what it will cost, how long it will take. The same
 * rules as the outbox (an address on the channel, not suppressed, marketing consent) so the
 * review and the send agree.
 */

export const SKIP_REASONS = ["no_address", "suppressed", "no_consent", "over_tier_limit"] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export const SKIP_LABELS: Record<SkipReason, string> = {
  no_address: "No address on this channel",
  suppressed: "On the suppression list",
  no_consent: "No marketing consent on this channel",
  over_tier_limit: "Over the WhatsApp tier's daily limit of new recipients",
};

/** WhatsApp business-initiated conversations allowed per rolling 24 hours, by messaging tier. */
export const WHATSAPP_TIER_LIMITS: Record<string, number> = {
  TIER_250: 250,
  TIER_1K: 1_000,
  TIER_2K: 2_000,
  TIER_10K: 10_000,
  TIER_100K: 100_000,
  TIER_UNLIMITED: Number.POSITIVE_INFINITY,
};

export interface AudienceSql {
  /** Boolean SQL over `contacts c` with `?` placeholders. */
  sql: string;
  params: (string | number)[];
}

export interface CostLine {
  /** WhatsApp: template category; SMS: "segment"; others: "message". */
  unit: string;
  country: string;
  quantity: number;
  unitPriceMinor: number;
  totalMinor: number;
}

export interface Review {
  audience: number;
  eligible: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Eligible recipients per country (phone-based channels), for the cost. */
  byCountry: Record<string, number>;
  cost: { currency: string; totalMinor: number; lines: CostLine[] };
  /** Seconds the send takes at the account's (or the campaign's) rate. */
  durationSeconds: number;
  ratePerSecond: number;
  sandbox: boolean;
  /**
   * Which audience definition was counted (a list, or a segment's filter as it was then): a
   * segment edited after the review is a different audience, and the review no longer holds.
   * Missing on reviews stored before it was recorded.
   */
  audienceKey?: string;
}

/**
 * How many recipients the review let through before the WhatsApp tier's cut: the queue refuses
 * to start when the audience has grown past this, and never queues more than `eligible`.
 */
export function reviewedRecipients(review: Review): number {
  return review.eligible + (review.skipped.over_tier_limit ?? 0);
}

const ADDRESS_COLUMN: Record<Channel, string> = {
  email: "c.email",
  whatsapp: "c.phone",
  sms: "c.phone",
  telegram: "c.telegram_chat_id",
};

/** One pass over the audience: every skip reason in SQL but suppression (keyed hashes). */
export function reviewAudience(
  db: TenantDb,
  audience: AudienceSql,
  channel: Channel,
): {
  audience: number;
  eligible: number;
  skipped: Partial<Record<SkipReason, number>>;
  byCountry: Record<string, number>;
  eligibleIds?: undefined;
} {
  const key = suppressionKey(db);
  const suppressed = new Set(
    db.$client
      .prepare("SELECT hash FROM suppressions WHERE channel IN (?, 'all')")
      .pluck()
      .all(channel) as string[],
  );
  const address = ADDRESS_COLUMN[channel];
  const rows = db.$client
    .prepare(
      `SELECT c.email, c.phone, ${address} AS address, c.country,
              (SELECT status FROM consents k WHERE k.contact_id = c.id AND k.channel = ?) AS consent
         FROM contacts c WHERE ${audience.sql}`,
    )
    .raw()
    .iterate(channel, ...audience.params) as Iterable<
    [string | null, string | null, string | null, string | null, string | null]
  >;
  const skipped: Partial<Record<SkipReason, number>> = {};
  const byCountry: Record<string, number> = {};
  let total = 0;
  let eligible = 0;
  const skip = (reason: SkipReason) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  for (const [email, phone, addr, country, consent] of rows) {
    total += 1;
    if (!addr) {
      skip("no_address");
      continue;
    }
    if (
      suppressed.size > 0 &&
      ((email && suppressed.has(suppressionHash(key, "email", email))) ||
        (phone && suppressed.has(suppressionHash(key, "phone", phone))))
    ) {
      skip("suppressed");
      continue;
    }
    if (consent !== "granted") {
      skip("no_consent");
      continue;
    }
    eligible += 1;
    const where = country ?? "*";
    byCountry[where] = (byCountry[where] ?? 0) + 1;
  }
  return { audience: total, eligible, skipped, byCountry };
}

/** Unique WhatsApp marketing recipients already messaged in the last 24 hours. */
export function whatsappRecipientsLast24h(db: TenantDb, now: number): number {
  return db.$client
    .prepare(
      `SELECT count(DISTINCT recipient) FROM messages
        WHERE channel = 'whatsapp' AND kind = 'marketing' AND sent_at >= ?`,
    )
    .pluck()
    .get(now - 24 * 60 * 60_000) as number;
}

/** Default prices when a workspace has set none, minor units (paise / cents). */
export const DEFAULT_PRICES: Record<
  "INR" | "USD",
  { channel: Channel; unit: string; country: string; priceMinor: number }[]
> = {
  INR: [
    { channel: "whatsapp", unit: "MARKETING", country: "IN", priceMinor: 88 },
    { channel: "whatsapp", unit: "UTILITY", country: "IN", priceMinor: 12 },
    { channel: "whatsapp", unit: "AUTHENTICATION", country: "IN", priceMinor: 12 },
    { channel: "whatsapp", unit: "MARKETING", country: "*", priceMinor: 600 },
    { channel: "whatsapp", unit: "UTILITY", country: "*", priceMinor: 200 },
    { channel: "whatsapp", unit: "AUTHENTICATION", country: "*", priceMinor: 200 },
    { channel: "sms", unit: "segment", country: "IN", priceMinor: 20 },
    { channel: "sms", unit: "segment", country: "*", priceMinor: 500 },
    { channel: "email", unit: "message", country: "*", priceMinor: 1 },
    { channel: "telegram", unit: "message", country: "*", priceMinor: 0 },
  ],
  USD: [
    { channel: "whatsapp", unit: "MARKETING", country: "IN", priceMinor: 1 },
    { channel: "whatsapp", unit: "UTILITY", country: "IN", priceMinor: 0 },
    { channel: "whatsapp", unit: "AUTHENTICATION", country: "IN", priceMinor: 0 },
    { channel: "whatsapp", unit: "MARKETING", country: "*", priceMinor: 3 },
    { channel: "whatsapp", unit: "UTILITY", country: "*", priceMinor: 1 },
    { channel: "whatsapp", unit: "AUTHENTICATION", country: "*", priceMinor: 1 },
    { channel: "sms", unit: "segment", country: "IN", priceMinor: 1 },
    { channel: "sms", unit: "segment", country: "*", priceMinor: 8 },
    { channel: "email", unit: "message", country: "*", priceMinor: 0 },
    { channel: "telegram", unit: "message", country: "*", priceMinor: 0 },
  ],
};

export interface PriceRow {
  channel: Channel;
  unit: string;
  country: string;
  priceMinor: number;
}

/** The price of one unit for a country: the country's own row, else the "*" row, else 0. */
export function unitPrice(
  prices: PriceRow[],
  channel: Channel,
  unit: string,
  country: string,
): number {
  return (
    prices.find((p) => p.channel === channel && p.unit === unit && p.country === country)
      ?.priceMinor ??
    prices.find((p) => p.channel === channel && p.unit === unit && p.country === "*")?.priceMinor ??
    0
  );
}

/** Cost of sending `units` per recipient to `byCountry` recipients. */
export function estimateCost(
  prices: PriceRow[],
  channel: Channel,
  unit: string,
  unitsPerRecipient: number,
  byCountry: Record<string, number>,
): CostLine[] {
  return Object.entries(byCountry)
    .sort((a, b) => b[1] - a[1])
    .map(([country, recipients]) => {
      const quantity = recipients * unitsPerRecipient;
      const unitPriceMinor = unitPrice(prices, channel, unit, country);
      return { unit, country, quantity, unitPriceMinor, totalMinor: quantity * unitPriceMinor };
    });
}
