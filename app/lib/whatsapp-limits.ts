/**
 * Meta's names for a WhatsApp number's limits, in words a shop owner reads: the messaging tier
 * ("TIER_1K") is how many different customers may be messaged first in any 24 hours; the quality
 * rating ("GREEN") is how recipients have received recent messages.
 */

const TIER = /^TIER_(\d+)(K?)$/i;

/** "TIER_1K" → "1,000 customers / 24 h" (no-break space before "h"); "TIER_UNLIMITED" → "Unlimited"; unknown: as given. */
export function messagingTierLabel(tier: string): string {
  const value = tier.trim().toUpperCase();
  if (value === "TIER_UNLIMITED") return "Unlimited";
  const match = TIER.exec(value);
  if (!match) return tier;
  const count = Number(match[1]) * (match[2] ? 1000 : 1);
  // A no-break space keeps "24 h" together when the line wraps.
  return `${count.toLocaleString("en-US")} customers / 24\u00a0h`;
}

const QUALITY: Record<string, string> = {
  GREEN: "High",
  YELLOW: "Medium",
  RED: "Low",
  UNKNOWN: "Not rated yet",
  NA: "Not rated yet",
};

/** "GREEN" → "High"; unknown values as given. */
export function qualityRatingLabel(rating: string): string {
  return QUALITY[rating.trim().toUpperCase()] ?? rating;
}
