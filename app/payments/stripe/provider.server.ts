import Stripe from "stripe";
import {
  type ChangeSubscriptionInput,
  headerOf,
  isRetryableStatus,
  type PaymentProvider,
  PaymentProviderError,
  retryAfterMs,
  type SubscriptionState,
  type SubscriptionStatus,
  type WebhookVerdict,
} from "../types";

export interface StripeConfig {
  secretKey: string;
  webhookSecret: string;
  /** STRIPE_API_BASE_URL: https://api.stripe.com, or a fake's http://127.0.0.1:port. */
  apiBaseUrl: string;
  timeoutMs: number;
}

/** Stripe's own webhook tolerance (5 minutes): an older signature is a replayed request. */
const WEBHOOK_TOLERANCE_SECONDS = 300;

const STATUS: Record<Stripe.Subscription.Status, SubscriptionStatus> = {
  trialing: "trialing",
  active: "active",
  past_due: "past_due",
  // Unpaid: Stripe stopped retrying but the subscription is not over; to us it is unpaid.
  unpaid: "past_due",
  // Paused: a trial ended without a way to pay; nothing is being paid for.
  paused: "past_due",
  canceled: "canceled",
  incomplete: "incomplete",
  incomplete_expired: "canceled",
};

/** Whether the header's signed timestamp (t=) is outside the tolerance (the reason we give). */
function isStale(signature: string): boolean {
  const t = signature
    .split(",")
    .map((part) => part.split("="))
    .find(([k]) => k?.trim() === "t")?.[1];
  const at = Number(t);
  return Number.isFinite(at) && Math.abs(Date.now() / 1000 - at) > WEBHOOK_TOLERANCE_SECONDS;
}

function stripeClient(config: StripeConfig): Stripe {
  const base = new URL(config.apiBaseUrl);
  const protocol = base.protocol === "http:" ? "http" : "https";
  return new Stripe(config.secretKey, {
    host: base.hostname,
    port: Number(base.port) || (protocol === "http" ? 80 : 443),
    protocol,
    timeout: config.timeoutMs,
    // Our callers decide when to try again (PaymentProviderError.retryable).
    maxNetworkRetries: 0,
  });
}

/** Any SDK failure as a PaymentProviderError (declines and 4xx are final; 429/5xx/no answer not). */
export function stripeError(error: unknown): PaymentProviderError {
  if (error instanceof PaymentProviderError) return error;
  if (error instanceof Stripe.errors.StripeError) {
    const status =
      error instanceof Stripe.errors.StripeConnectionError ? undefined : error.statusCode;
    return new PaymentProviderError("stripe", error.message, {
      retryable: isRetryableStatus(status),
      status,
      code: error.code,
      declineCode: error.decline_code,
      retryAfterMs: retryAfterMs(error.headers?.["retry-after"]),
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new PaymentProviderError("stripe", message, { retryable: true, cause: error });
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw stripeError(error);
  }
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const refOf = (v: string | { id: string } | null | undefined) =>
  v == null ? null : typeof v === "string" ? v : v.id;

function normalise(sub: Stripe.Subscription): SubscriptionState {
  const item = sub.items.data[0];
  return {
    ref: sub.id,
    status: STATUS[sub.status] ?? "incomplete",
    currentPeriodStart: item ? new Date(item.current_period_start * 1000) : null,
    currentPeriodEnd: item ? new Date(item.current_period_end * 1000) : null,
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    planRef: sub.metadata.plan ?? null,
    customerRef: refOf(sub.customer),
  };
}

export function createStripeProvider(config: StripeConfig): PaymentProvider {
  const stripe = stripeClient(config);

  async function subscription(ref: string): Promise<Stripe.Subscription> {
    return call(() => stripe.subscriptions.retrieve(ref));
  }

  async function update(
    ref: string,
    params: Stripe.SubscriptionUpdateParams,
    idempotencyKey?: string,
  ): Promise<SubscriptionState> {
    const sub = await call(() =>
      stripe.subscriptions.update(ref, params, idempotencyKey ? { idempotencyKey } : undefined),
    );
    return normalise(sub);
  }

  async function change(input: ChangeSubscriptionInput): Promise<SubscriptionState> {
    const sub = await subscription(input.ref);
    const item = sub.items.data[0];
    if (!item) {
      throw new PaymentProviderError("stripe", `Subscription ${input.ref} has no item`, {
        retryable: false,
      });
    }
    const price = await call(() =>
      stripe.prices.create(
        {
          currency: input.price.currency.toLowerCase(),
          unit_amount: input.price.amount,
          recurring: { interval: input.interval },
          product_data: { name: input.planName },
        },
        { idempotencyKey: `${input.idempotencyKey}:price` },
      ),
    );
    const now = input.effective === "now";
    return update(
      input.ref,
      {
        items: [{ id: item.id, price: price.id }],
        // An upgrade is invoiced and paid at once, failing (402) rather than leaving it unpaid;
        // a downgrade changes no money now and the new price is what renews.
        proration_behavior: now ? "always_invoice" : "none",
        ...(now ? { payment_behavior: "error_if_incomplete" as const } : {}),
        ...(now && input.at ? { proration_date: seconds(input.at) } : {}),
        metadata: { plan: input.planRef },
      },
      input.idempotencyKey,
    );
  }

  return {
    name: "stripe",

    async ensureCustomer(facts) {
      const fields = {
        email: facts.email,
        name: facts.name,
        ...(facts.phone ? { phone: facts.phone } : {}),
        metadata: { workspace: facts.workspaceId },
      };
      if (facts.existingRef) {
        const c = await call(() => stripe.customers.update(facts.existingRef!, fields));
        return { customerRef: c.id };
      }
      const c = await call(() =>
        stripe.customers.create(fields, { idempotencyKey: `customer:${facts.workspaceId}` }),
      );
      return { customerRef: c.id };
    },

    async startSubscription(input) {
      const trialDays = input.trialEnd
        ? Math.ceil((input.trialEnd.getTime() - Date.now()) / 86_400_000)
        : 0;
      const session = await call(() =>
        stripe.checkout.sessions.create(
          {
            mode: "subscription",
            customer: input.customerRef,
            success_url: input.successUrl,
            cancel_url: input.cancelUrl,
            line_items: [
              {
                quantity: 1,
                price_data: {
                  currency: input.price.currency.toLowerCase(),
                  unit_amount: input.price.amount,
                  recurring: { interval: input.interval },
                  product_data: { name: input.planName },
                },
              },
            ],
            subscription_data: {
              metadata: { plan: input.planRef },
              // Stripe wants at least one whole day of trial; less than that starts paid now.
              ...(trialDays >= 1 ? { trial_period_days: trialDays } : {}),
            },
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      if (!session.url) {
        throw new PaymentProviderError("stripe", "Checkout Session has no hosted URL", {
          retryable: false,
        });
      }
      return { hostedUrl: session.url, ref: session.id };
    },

    async fetchSubscription(ref) {
      if (ref.startsWith("cs_")) {
        const session = await call(() => stripe.checkout.sessions.retrieve(ref));
        const subRef = refOf(session.subscription);
        if (!subRef) {
          return {
            ref,
            status: session.status === "expired" ? "canceled" : "incomplete",
            currentPeriodStart: null,
            currentPeriodEnd: null,
            cancelAtPeriodEnd: false,
            planRef: null,
            customerRef: refOf(session.customer),
          };
        }
        return normalise(await subscription(subRef));
      }
      return normalise(await subscription(ref));
    },

    changeSubscription: change,

    cancelAtPeriodEnd: (ref) => update(ref, { cancel_at_period_end: true }),
    resume: (ref) => update(ref, { cancel_at_period_end: false }),
    async cancelNow(ref) {
      return normalise(await call(() => stripe.subscriptions.cancel(ref)));
    },

    async refund(paymentRef, amount, idempotencyKey) {
      const target = paymentRef.startsWith("ch_")
        ? { charge: paymentRef }
        : { payment_intent: paymentRef };
      const r = await call(() => stripe.refunds.create({ ...target, amount }, { idempotencyKey }));
      const status =
        r.status === "succeeded" ? "succeeded" : r.status === "failed" ? "failed" : "pending";
      return { ref: r.id, amount: r.amount, status };
    },

    verifyWebhook(rawBody, headers): WebhookVerdict {
      const signature = headerOf(headers, "stripe-signature");
      if (!signature) return { ok: false, status: 400, reason: "missing Stripe-Signature header" };
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(
          rawBody,
          signature,
          config.webhookSecret,
          WEBHOOK_TOLERANCE_SECONDS,
        );
      } catch (error) {
        if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
          return {
            ok: false,
            status: 401,
            reason: isStale(signature)
              ? "signature timestamp is outside the 5-minute tolerance"
              : "signature does not match",
          };
        }
        return { ok: false, status: 400, reason: "body is not a Stripe event" };
      }
      const object = event.data.object as { id?: unknown };
      return {
        ok: true,
        eventId: event.id,
        type: event.type,
        objectRef: typeof object.id === "string" ? object.id : null,
      };
    },
  };
}
