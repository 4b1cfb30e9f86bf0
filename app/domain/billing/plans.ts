import type { Channel } from "~/lib/channels";
import type { Currency } from "~/db/schema/control";

/**
 * Every plan, its prices and its limits, in one place. Prices are in minor units (paise, cents)
 * and exclude GST; an annual price is ten monthly prices (two months free). Why these numbers:
 * docs/decisions/0020-plans-and-prices.md.
 */

export const PLAN_IDS = ["starter", "growth", "business"] as const;
export type PlanId = (typeof PLAN_IDS)[number];

export const INTERVALS = ["month", "year"] as const;
export type Interval = (typeof INTERVALS)[number];

/** A new workspace may use the growth plan's limits for this long before choosing a plan. */
export const TRIAL_DAYS = 14;
export const TRIAL_PLAN: PlanId = "growth";

export interface PlanLimits {
  contacts: number;
  /** Messages sent per calendar month, counted per channel. */
  monthlyMessages: Record<Channel, number>;
  seats: number;
  aiRequestsPerMonth: number;
  workspaces: number;
}

export interface PlanFeatures {
  inbox: boolean;
  journeys: boolean;
  api: boolean;
}

export interface Plan {
  id: PlanId;
  name: string;
  /** Higher is bigger; moving to a higher rank is an upgrade. */
  rank: number;
  prices: Record<Currency, Record<Interval, number>>;
  limits: PlanLimits;
  features: PlanFeatures;
}

const messages = (email: number, whatsapp: number, sms: number, telegram: number) =>
  ({ email, whatsapp, sms, telegram }) satisfies Record<Channel, number>;

export const PLANS: Record<PlanId, Plan> = {
  starter: {
    id: "starter",
    name: "Starter",
    rank: 1,
    prices: {
      INR: { month: 1_999_00, year: 19_990_00 },
      USD: { month: 29_00, year: 290_00 },
    },
    limits: {
      contacts: 2_000,
      monthlyMessages: messages(20_000, 2_000, 1_000, 5_000),
      seats: 2,
      aiRequestsPerMonth: 200,
      workspaces: 1,
    },
    features: { inbox: true, journeys: false, api: false },
  },
  growth: {
    id: "growth",
    name: "Growth",
    rank: 2,
    prices: {
      INR: { month: 5_999_00, year: 59_990_00 },
      USD: { month: 79_00, year: 790_00 },
    },
    limits: {
      contacts: 10_000,
      monthlyMessages: messages(100_000, 10_000, 5_000, 25_000),
      seats: 5,
      aiRequestsPerMonth: 1_000,
      workspaces: 3,
    },
    features: { inbox: true, journeys: true, api: true },
  },
  business: {
    id: "business",
    name: "Business",
    rank: 3,
    prices: {
      INR: { month: 14_999_00, year: 149_990_00 },
      USD: { month: 199_00, year: 1_990_00 },
    },
    limits: {
      contacts: 50_000,
      monthlyMessages: messages(500_000, 50_000, 25_000, 100_000),
      seats: 15,
      aiRequestsPerMonth: 5_000,
      workspaces: 10,
    },
    features: { inbox: true, journeys: true, api: true },
  },
};

export function isPlanId(value: string): value is PlanId {
  return (PLAN_IDS as readonly string[]).includes(value);
}

export function isInterval(value: string): value is Interval {
  return (INTERVALS as readonly string[]).includes(value);
}

export function planPrice(plan: PlanId, interval: Interval, currency: Currency): number {
  return PLANS[plan].prices[currency][interval];
}
