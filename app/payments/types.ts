/**
 * The one interface every payment provider implements (Stripe, Razorpay, the sandbox). Like the
 * channel adapters, a provider knows its SDK or HTTP API and nothing of our database or domain:
 * billing (app/domain/billing) decides what to charge and records it; a provider only moves
 * the money and reports what the provider's API says. Amounts are integer minor units (paise,
 * cents) with their currency; nothing here knows which currency a provider "should" take.
 */

export const PAYMENT_CURRENCIES = ["INR", "USD"] as const;
export type PaymentCurrency = (typeof PAYMENT_CURRENCIES)[number];

export type ProviderName = "stripe" | "razorpay" | "sandbox";
export type BillingInterval = "month" | "year";

export interface MinorMoney {
  /** Integer minor units (paise for INR, cents for USD). */
  amount: number;
  currency: PaymentCurrency;
}

/** Who pays: the workspace, as billing knows it. */
export interface CustomerFacts {
  workspaceId: string;
  name: string;
  email: string;
  /** E.164, when known (Razorpay matches a mandate's payer by email + phone). */
  phone?: string;
  /** A customer created earlier for this workspace: it is updated, not created again. */
  existingRef?: string | null;
}

export interface StartSubscriptionInput {
  customerRef: string;
  /** Our name for the plan and interval, e.g. "growth:month"; read back as `planRef`. */
  planRef: string;
  /** Shown on the hosted page, e.g. "Growth (monthly)". */
  planName: string;
  price: MinorMoney;
  interval: BillingInterval;
  /** The first charge happens then instead of now (the trial's end). */
  trialEnd?: Date;
  successUrl: string;
  cancelUrl: string;
  /** One key per attempt to start this subscription: a retry creates nothing new. */
  idempotencyKey: string;
}

export interface StartedSubscription {
  /** Where the payer goes to pay or authorise the mandate (the provider's page, or ours). */
  hostedUrl: string;
  /**
   * What `fetchSubscription` takes. Stripe: the Checkout Session until it is paid (the state then
   * carries the subscription's own `ref`); Razorpay and the sandbox: the subscription itself.
   */
  ref: string;
}

export const SUBSCRIPTION_STATUSES = [
  "trialing",
  "active",
  "past_due",
  "canceled",
  "incomplete",
] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** A subscription as the provider's API reports it now, in one shape for every provider. */
export interface SubscriptionState {
  /** The subscription's ref (store this one); a checkout's ref while nothing is paid yet. */
  ref: string;
  status: SubscriptionStatus;
  /** Null while incomplete (nothing paid or authorised yet). */
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  /** The `planRef` the subscription was started or last changed with (null if unknown). */
  planRef: string | null;
  customerRef: string | null;
}

export interface ChangeSubscriptionInput {
  ref: string;
  planRef: string;
  planName: string;
  price: MinorMoney;
  interval: BillingInterval;
  /**
   * "now": the difference for the rest of the period is charged at once (an upgrade);
   * "renewal": nothing is charged now and the new price applies from the next period.
   */
  effective: "now" | "renewal";
  /** The moment the proration is computed for (the quote's `at`), so both use one instant. */
  at?: Date;
  idempotencyKey: string;
}

export interface RefundResult {
  ref: string;
  amount: number;
  status: "succeeded" | "pending" | "failed";
}

export type WebhookVerdict =
  | {
      ok: true;
      eventId: string;
      type: string;
      /** The id of the object the event is about (subscription, payment, invoice...). */
      objectRef: string | null;
    }
  | { ok: false; status: 400 | 401; reason: string };

export interface PaymentProvider {
  readonly name: ProviderName;
  ensureCustomer(facts: CustomerFacts): Promise<{ customerRef: string }>;
  startSubscription(input: StartSubscriptionInput): Promise<StartedSubscription>;
  fetchSubscription(ref: string): Promise<SubscriptionState>;
  changeSubscription(input: ChangeSubscriptionInput): Promise<SubscriptionState>;
  cancelAtPeriodEnd(ref: string): Promise<SubscriptionState>;
  /** Undoes `cancelAtPeriodEnd` while the period has not ended. */
  resume(ref: string): Promise<SubscriptionState>;
  cancelNow(ref: string): Promise<SubscriptionState>;
  /** Refunds `amount` minor units of a captured payment (Stripe: payment intent or charge). */
  refund(paymentRef: string, amount: number, idempotencyKey: string): Promise<RefundResult>;
  /**
   * Checks a webhook's signature over the exact bytes received (never a re-serialised body).
   * Only a verified event is ever read; its state is re-read with `fetchSubscription`.
   */
  verifyWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): WebhookVerdict | Promise<WebhookVerdict>;
}

/**
 * Everything a provider throws. `retryable`: a rate limit, a provider 5xx, a timeout or a lost
 * connection (trying again later may work); not retryable: a refused request (4xx), bad keys,
 * a declined card or an operation the provider does not offer.
 */
export class PaymentProviderError extends Error {
  readonly provider: ProviderName;
  readonly retryable: boolean;
  /** HTTP status, when there was a response. */
  readonly status?: number;
  /** The provider's code, e.g. Stripe "card_declined", Razorpay "BAD_REQUEST_ERROR". */
  readonly code?: string;
  /** Stripe's decline_code / Razorpay's error reason, for a declined payment. */
  readonly declineCode?: string;
  /** Retry-After, in ms. */
  readonly retryAfterMs?: number;
  constructor(
    provider: ProviderName,
    message: string,
    options: {
      retryable: boolean;
      status?: number;
      code?: string;
      declineCode?: string;
      retryAfterMs?: number;
      cause?: unknown;
    },
  ) {
    super(message, { cause: options.cause });
    this.name = "PaymentProviderError";
    this.provider = provider;
    this.retryable = options.retryable;
    this.status = options.status;
    this.code = options.code;
    this.declineCode = options.declineCode;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** 429, any 5xx, or no answer at all (status undefined) may succeed later. */
export function isRetryableStatus(status: number | undefined): boolean {
  return status === undefined || status === 429 || status >= 500;
}

/** Retry-After in seconds (the only form Stripe and Razorpay send) to ms. */
export function retryAfterMs(value: unknown): number | undefined {
  const seconds = Number(Array.isArray(value) ? value[0] : value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** A header by lower-case name, from Node's or Express's header object. */
export function headerOf(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
