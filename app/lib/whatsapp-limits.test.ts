import { describe, expect, it } from "vitest";
import { messagingTierLabel, qualityRatingLabel } from "./whatsapp-limits";

describe("WhatsApp limits in words", () => {
  it.each([
    ["TIER_50", "50 customers / 24\u00a0h"],
    ["TIER_250", "250 customers / 24\u00a0h"],
    ["TIER_1K", "1,000 customers / 24\u00a0h"],
    ["TIER_2K", "2,000 customers / 24\u00a0h"],
    ["TIER_10K", "10,000 customers / 24\u00a0h"],
    ["TIER_100K", "100,000 customers / 24\u00a0h"],
    ["TIER_UNLIMITED", "Unlimited"],
    ["tier_1k", "1,000 customers / 24\u00a0h"],
    ["SOMETHING_NEW", "SOMETHING_NEW"],
  ])("%s → %s", (tier, words) => {
    expect(messagingTierLabel(tier)).toBe(words);
  });

  it("names quality ratings", () => {
    expect(qualityRatingLabel("GREEN")).toBe("High");
    expect(qualityRatingLabel("YELLOW")).toBe("Medium");
    expect(qualityRatingLabel("RED")).toBe("Low");
    expect(qualityRatingLabel("UNKNOWN")).toBe("Not rated yet");
    expect(qualityRatingLabel("PURPLE")).toBe("PURPLE");
  });
});
