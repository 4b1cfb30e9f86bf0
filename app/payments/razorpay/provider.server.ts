import { createHmac, timingSafeEqual } from "node:crypto";
import Razorpay from "razorpay";
import type { Subscriptions } from "razorpay/dist/types/subscriptions";
import {
  type BillingInterval,
  headerOf,
  isRetryableStatus,
  type MinorMoney,
  type PaymentProvider,
  PaymentProviderError,
  type SubscriptionState,
  type SubscriptionStatus,
  type WebhookVerdict,
} from "../types";

export interface RazorpayConfig {
  keyId: string;
  keySecret: string;
  /** The webhook secret set on the dashboard's webhook (not the key secret Checkout signs with). */
  webhookSecret: string;
  /** RAZORPAY_API_BASE_URL without /v1: the SDK adds it to every path. */
  apiBaseUrl: string;
  timeoutMs: number;
}

type RazorpayStatus = Subscriptions.RazorpaySubscription["status"] | "paused";

const STATUS: Record<RazorpayStatus, SubscriptionStatus> = {
  // Created: the mandate is not authorised yet; nothing is paid.
  created: "incomplete",
  // Authenticated: mandate authorised, first charge at start_at (the trial's end).
  authenticated: "trialing",
  active: "active",
  // Pending: a charge failed and Razorpay is retrying; halted: it gave up.
  pending: "past_due",
  halted: "past_due",
  paused: "past_due",
  cancelled: "canceled",
  completed: "canceled",
  expired: "canceled",
};

/** How many cycles a subscription is authorised for (Razorpay needs a count): ten years. */
const TOTAL_COUNT: Record<BillingInterval, number> = { month: 120, year: 10 };
const PERIOD: Record<BillingInterval, "monthly" | "yearly"> = { month: "monthly", year: "yearly" };

interface SdkRejection {
  statusCode?: number;
  error?: { code?: string; description?: string; reason?: string };
}

/**
 * razorpay-node rejects with `{ statusCode, error }` when the API answered; with no answer
 * (timeout, refused connection) its own error handler fails on the missing response, so
 * anything else is "no answer", which may work later.
 */
export function razorpayError(error: unknown): PaymentProviderError {
  if (error instanceof PaymentProviderError) return error;
  const r = error as SdkRejection | null;
  if (r && typeof r === "object" && typeof r.statusCode === "number") {
    const reason = r.error?.reason && r.error.reason !== "NA" ? r.error.reason : undefined;
    return new PaymentProviderError(
      "razorpay",
      r.error?.description ?? `Razorpay answered ${r.statusCode}`,
      {
        retryable: isRetryableStatus(r.statusCode),
        status: r.statusCode,
        code: r.error?.code,
        declineCode: reason,
        cause: error,
      },
    );
  }
  const message = error instanceof Error ? error.message : "Razorpay did not answer";
  return new PaymentProviderError("razorpay", message, { retryable: true, cause: error });
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw razorpayError(error);
  }
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const dateOf = (s: number | null | undefined) => (s ? new Date(s * 1000) : null);
const noteOf = (notes: unknown, key: string): string | null => {
  const v = (notes as Record<string, unknown> | null | undefined)?.[key];
  return typeof v === "string" ? v : null;
};

/** Hex HMAC-SHA256 of the raw bytes, compared in constant time. */
export function razorpaySignatureMatches(rawBody: Buffer, signature: string, secret: string) {
  const expected = createHmac("sha256", secret).update(rawBody).digest();
  const given = /^[0-9a-f]{64}$/i.test(signature) ? Buffer.from(signature, "hex") : null;
  return given !== null && timingSafeEqual(expected, given);
}

export function createRazorpayProvider(config: RazorpayConfig): PaymentProvider {
  const rp = new Razorpay({ key_id: config.keyId, key_secret: config.keySecret });
  // The SDK's axios instance; its paths already start with /v1.
  const rq = (rp.api as unknown as { rq: { defaults: { baseURL?: string; timeout?: number } } }).rq;
  rq.defaults.baseURL = config.apiBaseUrl;
  rq.defaults.timeout = config.timeoutMs;

  /** A Razorpay plan for this price; our planRef rides in its notes (subscriptions keep theirs). */
  async function planFor(planRef: string, planName: string, price: MinorMoney, i: BillingInterval) {
    return call(() =>
      rp.plans.create({
        period: PERIOD[i],
        interval: 1,
        item: { name: planName, amount: price.amount, currency: price.currency },
        notes: { plan: planRef },
      }),
    );
  }

  async function normalise(sub: Subscriptions.RazorpaySubscription): Promise<SubscriptionState> {
    const plan = await call(() => rp.plans.fetch(sub.plan_id));
    const status = STATUS[sub.status as RazorpayStatus] ?? "incomplete";
    const trialing = status === "trialing";
    return {
      ref: sub.id,
      status,
      // Before the first charge the "period" is the trial: from authorisation to start_at.
      currentPeriodStart: trialing ? dateOf(sub.created_at) : dateOf(sub.current_start),
      currentPeriodEnd: trialing ? dateOf(sub.start_at) : dateOf(sub.current_end),
      // Razorpay's subscription does not show a pending cancel-at-cycle-end.
      cancelAtPeriodEnd: false,
      planRef: noteOf(plan.notes, "plan") ?? noteOf(sub.notes, "plan"),
      customerRef: sub.customer_id ?? noteOf(sub.notes, "customer"),
    };
  }

  const fetchSub = async (ref: string) => normalise(await call(() => rp.subscriptions.fetch(ref)));

  return {
    name: "razorpay",

    async ensureCustomer(facts) {
      const contact = facts.phone ? { contact: facts.phone } : {};
      if (facts.existingRef) {
        const c = await call(() =>
          rp.customers.edit(facts.existingRef!, {
            name: facts.name,
            email: facts.email,
            ...contact,
          }),
        );
        return { customerRef: c.id };
      }
      // fail_existing 0: the customer with this email/phone is returned instead of an error.
      const c = await call(() =>
        rp.customers.create({
          name: facts.name,
          email: facts.email,
          ...contact,
          notes: { workspace: facts.workspaceId },
          fail_existing: 0,
        }),
      );
      return { customerRef: c.id };
    },

    async startSubscription(input) {
      const plan = await planFor(input.planRef, input.planName, input.price, input.interval);
      const startAt =
        input.trialEnd && input.trialEnd.getTime() > Date.now() ? input.trialEnd : null;
      // Razorpay takes no idempotency key: the key is kept in notes to find a duplicate later.
      // Its subscription page has no return URL (successUrl/cancelUrl go unused): the state
      // comes from the webhook and fetchSubscription.
      const sub = await call(() =>
        rp.subscriptions.create({
          plan_id: plan.id,
          total_count: TOTAL_COUNT[input.interval],
          customer_notify: 0,
          ...(startAt ? { start_at: seconds(startAt) } : {}),
          notes: {
            plan: input.planRef,
            customer: input.customerRef,
            idempotency_key: input.idempotencyKey,
          },
        }),
      );
      return { hostedUrl: sub.short_url, ref: sub.id };
    },

    fetchSubscription: fetchSub,

    async changeSubscription(input) {
      const plan = await planFor(input.planRef, input.planName, input.price, input.interval);
      const sub = await call(() =>
        rp.subscriptions.update(input.ref, {
          plan_id: plan.id,
          schedule_change_at: input.effective === "now" ? "now" : "cycle_end",
          customer_notify: 0,
        }),
      );
      return normalise(sub);
    },

    async cancelAtPeriodEnd(ref) {
      const state = await normalise(await call(() => rp.subscriptions.cancel(ref, true)));
      return { ...state, cancelAtPeriodEnd: state.status !== "canceled" };
    },

    async resume() {
      // Razorpay's resume is for paused subscriptions; a cancel at cycle end cannot be undone.
      throw new PaymentProviderError(
        "razorpay",
        "Razorpay cannot undo a cancellation; start a new subscription from the period's end.",
        { retryable: false, code: "unsupported" },
      );
    },

    async cancelNow(ref) {
      return normalise(await call(() => rp.subscriptions.cancel(ref, false)));
    },

    async refund(paymentRef, amount, idempotencyKey) {
      const r = await call(() =>
        rp.payments.refund(paymentRef, { amount, notes: { idempotency_key: idempotencyKey } }),
      );
      const status =
        r.status === "processed" ? "succeeded" : r.status === "failed" ? "failed" : "pending";
      return { ref: r.id, amount: Number(r.amount), status };
    },

    // Razorpay signs no timestamp and retries for a day: a replay is caught by its event id.
    verifyWebhook(rawBody, headers): WebhookVerdict {
      const signature = headerOf(headers, "x-razorpay-signature");
      if (!signature) {
        return { ok: false, status: 400, reason: "missing X-Razorpay-Signature header" };
      }
      if (!razorpaySignatureMatches(rawBody, signature, config.webhookSecret)) {
        return { ok: false, status: 401, reason: "signature does not match" };
      }
      const eventId = headerOf(headers, "x-razorpay-event-id");
      if (!eventId) return { ok: false, status: 400, reason: "missing X-Razorpay-Event-Id header" };
      let event: { event?: unknown; contains?: unknown; payload?: Record<string, unknown> };
      try {
        event = JSON.parse(rawBody.toString("utf8")) as typeof event;
      } catch {
        return { ok: false, status: 400, reason: "body is not JSON" };
      }
      if (typeof event.event !== "string") {
        return { ok: false, status: 400, reason: "body is not a Razorpay event" };
      }
      const first = Array.isArray(event.contains) ? String(event.contains[0]) : "";
      const entity = (event.payload?.[first] as { entity?: { id?: unknown } } | undefined)?.entity;
      return {
        ok: true,
        eventId,
        type: event.event,
        objectRef: typeof entity?.id === "string" ? entity.id : null,
      };
    },
  };
}
