import { randomBytes } from "node:crypto";
import {
  type BillingInterval,
  type MinorMoney,
  type PaymentProvider,
  PaymentProviderError,
  type SubscriptionState,
} from "../types";

/**
 * A provider with no keys: nothing leaves the box and no money moves, so the whole billing flow
 * can be tried locally. Its hosted URL is a page of ours under /billing/sandbox/checkout/:ref,
 * which calls `completeCheckout` when the person presses Pay. State lives in this object (one per
 * process, see paymentProviderFor): a restart forgets sandbox subscriptions.
 */
export interface SandboxPaymentProvider extends PaymentProvider {
  readonly name: "sandbox";
  /**
   * What the sandbox checkout page does on Pay: the subscription starts (or its trial). The
   * payment's ref (null for a trial: nothing is charged) is what `refund` takes.
   */
  completeCheckout(ref: string): { state: SubscriptionState; paymentRef: string | null };
}

interface SandboxSubscription {
  ref: string;
  customerRef: string;
  planRef: string;
  price: MinorMoney;
  interval: BillingInterval;
  paid: boolean;
  paymentRef: string | null;
  canceled: boolean;
  cancelAtPeriodEnd: boolean;
  trialEnd: Date | null;
  periodStart: Date | null;
  periodEnd: Date | null;
}

interface SandboxPayment {
  amount: number;
  refunded: number;
}

const sandboxRef = (prefix: string) => `sandbox_${prefix}_${randomBytes(9).toString("base64url")}`;

function addInterval(from: Date, interval: BillingInterval): Date {
  const d = new Date(from);
  if (interval === "month") d.setUTCMonth(d.getUTCMonth() + 1);
  else d.setUTCFullYear(d.getUTCFullYear() + 1);
  return d;
}

export function createSandboxProvider(options: {
  baseUrl: string;
  now?: () => Date;
}): SandboxPaymentProvider {
  const now = options.now ?? (() => new Date());
  const customers = new Map<string, string>();
  const subscriptions = new Map<string, SandboxSubscription>();
  const byIdempotencyKey = new Map<string, string>();
  const payments = new Map<string, SandboxPayment>();
  const refunds = new Map<string, { ref: string; amount: number }>();

  function get(ref: string): SandboxSubscription {
    const sub = subscriptions.get(ref);
    if (!sub) {
      throw new PaymentProviderError("sandbox", `No sandbox subscription ${ref}`, {
        retryable: false,
        status: 404,
        code: "resource_missing",
      });
    }
    return sub;
  }

  function live(ref: string): SandboxSubscription {
    const sub = get(ref);
    if (sub.canceled) {
      throw new PaymentProviderError("sandbox", `Sandbox subscription ${ref} is canceled`, {
        retryable: false,
        status: 400,
      });
    }
    return sub;
  }

  function state(sub: SandboxSubscription): SubscriptionState {
    const trialing = sub.paid && sub.trialEnd !== null && sub.trialEnd > now();
    return {
      ref: sub.ref,
      status: sub.canceled
        ? "canceled"
        : !sub.paid
          ? "incomplete"
          : trialing
            ? "trialing"
            : "active",
      currentPeriodStart: sub.periodStart,
      currentPeriodEnd: sub.periodEnd,
      cancelAtPeriodEnd: sub.cancelAtPeriodEnd,
      planRef: sub.planRef,
      customerRef: sub.customerRef,
    };
  }

  return {
    name: "sandbox",

    async ensureCustomer(facts) {
      if (facts.existingRef) return { customerRef: facts.existingRef };
      let ref = customers.get(facts.workspaceId);
      if (!ref) {
        ref = sandboxRef("cus");
        customers.set(facts.workspaceId, ref);
      }
      return { customerRef: ref };
    },

    async startSubscription(input) {
      let ref = byIdempotencyKey.get(input.idempotencyKey);
      if (!ref) {
        ref = sandboxRef("sub");
        byIdempotencyKey.set(input.idempotencyKey, ref);
        subscriptions.set(ref, {
          ref,
          customerRef: input.customerRef,
          planRef: input.planRef,
          price: input.price,
          interval: input.interval,
          paid: false,
          paymentRef: null,
          canceled: false,
          cancelAtPeriodEnd: false,
          trialEnd: input.trialEnd ?? null,
          periodStart: null,
          periodEnd: null,
        });
      }
      const hostedUrl = `${options.baseUrl}/billing/sandbox/checkout/${encodeURIComponent(ref)}`;
      return { hostedUrl, ref };
    },

    completeCheckout(ref) {
      const sub = live(ref);
      if (!sub.paid) {
        const start = now();
        const trial = sub.trialEnd && sub.trialEnd > start ? sub.trialEnd : null;
        sub.paid = true;
        sub.periodStart = start;
        sub.periodEnd = trial ?? addInterval(start, sub.interval);
        if (!trial) {
          sub.paymentRef = sandboxRef("pay");
          payments.set(sub.paymentRef, { amount: sub.price.amount, refunded: 0 });
        }
      }
      return { state: state(sub), paymentRef: sub.paymentRef };
    },

    async fetchSubscription(ref) {
      return state(get(ref));
    },

    async changeSubscription(input) {
      const sub = live(input.ref);
      sub.planRef = input.planRef;
      sub.price = input.price;
      sub.interval = input.interval;
      return state(sub);
    },

    async cancelAtPeriodEnd(ref) {
      const sub = live(ref);
      sub.cancelAtPeriodEnd = true;
      return state(sub);
    },

    async resume(ref) {
      const sub = live(ref);
      sub.cancelAtPeriodEnd = false;
      return state(sub);
    },

    async cancelNow(ref) {
      const sub = live(ref);
      sub.canceled = true;
      sub.cancelAtPeriodEnd = false;
      return state(sub);
    },

    async refund(paymentRef, amount, idempotencyKey) {
      const seen = refunds.get(idempotencyKey);
      if (seen) return { ...seen, status: "succeeded" };
      const payment = payments.get(paymentRef);
      if (!payment || amount <= 0 || amount > payment.amount - payment.refunded) {
        throw new PaymentProviderError(
          "sandbox",
          payment ? "Refund is more than what is left of the payment" : "No such sandbox payment",
          { retryable: false, status: 400 },
        );
      }
      payment.refunded += amount;
      const refund = { ref: sandboxRef("rfnd"), amount };
      refunds.set(idempotencyKey, refund);
      return { ...refund, status: "succeeded" };
    },

    verifyWebhook() {
      return { ok: false, status: 400, reason: "the sandbox sends no webhooks" };
    },
  };
}
