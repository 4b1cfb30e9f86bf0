import { describe, expect, it } from "vitest";
import { CURRENCIES } from "~/db/schema/control";
import { CHANNELS } from "~/lib/channels";
import { PLAN_IDS, PLANS, TRIAL_DAYS, TRIAL_PLAN } from "./plans";

describe("plans", () => {
  const ordered = PLAN_IDS.map((id) => PLANS[id]);

  it("price every plan in whole minor units, a year at ten months", () => {
    for (const plan of ordered) {
      for (const currency of CURRENCIES) {
        const { month, year } = plan.prices[currency];
        expect(Number.isSafeInteger(month) && month > 0, `${plan.id} ${currency}`).toBe(true);
        expect(year, `${plan.id} ${currency}`).toBe(10 * month);
      }
    }
  });

  it("grow with rank: a higher plan costs more and limits no less, on every channel", () => {
    for (let i = 1; i < ordered.length; i++) {
      const [lower, higher] = [ordered[i - 1]!, ordered[i]!];
      expect(higher.rank).toBeGreaterThan(lower.rank);
      for (const currency of CURRENCIES) {
        expect(higher.prices[currency].month).toBeGreaterThan(lower.prices[currency].month);
      }
      for (const key of ["contacts", "seats", "aiRequestsPerMonth", "workspaces"] as const) {
        expect(higher.limits[key]).toBeGreaterThan(lower.limits[key]);
      }
      for (const channel of CHANNELS) {
        expect(higher.limits.monthlyMessages[channel]).toBeGreaterThan(
          lower.limits.monthlyMessages[channel],
        );
      }
      for (const feature of ["inbox", "journeys", "api"] as const) {
        if (lower.features[feature]) expect(higher.features[feature]).toBe(true);
      }
    }
  });

  it("trial for 14 days on an existing plan", () => {
    expect(TRIAL_DAYS).toBe(14);
    expect(PLANS[TRIAL_PLAN]).toBeDefined();
  });
});
