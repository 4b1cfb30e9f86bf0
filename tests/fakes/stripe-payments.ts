// Payments for the Stripe fake: prices, card charges (payment intent + charge, declined while
// the fail queue has entries) and refunds, kept as the JSON Stripe answers.
import type { FakeReply } from "./base";
import type { Obj } from "./stripe-billing";
import {
  type FormObject,
  invalidParam,
  metadata,
  missing,
  nowSeconds,
  obj,
  paramMissing,
  str,
  stripeError,
  stripeId,
} from "./stripe-wire";

export interface PaymentDeps {
  objects: Map<string, Obj>;
  emit(type: string, object: Obj, previousAttributes?: Record<string, unknown>): void;
  /** Decline codes for the next charges, first out first. */
  failQueue: string[];
}

export function createStripePayments(deps: PaymentDeps) {
  const { objects, emit, failQueue } = deps;
  const put = <T extends Obj>(o: T): T => {
    objects.set(o.id, o);
    return o;
  };

  function priceFrom(body: FormObject): Obj | string {
    const currency = str(body.currency)?.toLowerCase();
    if (!currency) return "Missing required param: currency.";
    const amount = Number(str(body.unit_amount));
    if (!Number.isInteger(amount) || amount < 0) {
      return "Invalid integer: unit_amount must be a non-negative integer in the smallest currency unit.";
    }
    let product = str(body.product);
    const productData = obj(body.product_data);
    if (!product) {
      if (!str(productData.name)) return "Missing required param: product_data[name].";
      product = put({
        id: stripeId("prod"),
        object: "product",
        name: str(productData.name),
        active: true,
        created: nowSeconds(),
        livemode: false,
        metadata: metadata(productData.metadata),
      }).id;
    }
    const rec = obj(body.recurring);
    const interval = str(rec.interval);
    if (interval && !["day", "week", "month", "year"].includes(interval)) {
      return "Invalid recurring[interval]: must be one of day, week, month, or year";
    }
    return put({
      id: stripeId("price"),
      object: "price",
      active: true,
      created: nowSeconds(),
      livemode: false,
      currency,
      unit_amount: amount,
      product,
      type: interval ? "recurring" : "one_time",
      recurring: interval
        ? { interval, interval_count: Number(str(rec.interval_count) ?? 1), usage_type: "licensed" }
        : null,
      metadata: metadata(body.metadata),
      lookup_key: str(body.lookup_key) ?? null,
    });
  }

  /** One card charge: a payment intent and its charge; null intent status on decline. */
  function charge(
    customer: string,
    amount: number,
    currency: string,
    meta: Record<string, string>,
  ) {
    const declined = failQueue.shift() ?? null;
    const pi = put({
      id: stripeId("pi"),
      object: "payment_intent",
      created: nowSeconds(),
      livemode: false,
      amount,
      amount_received: declined ? 0 : amount,
      currency,
      customer,
      status: declined ? "requires_payment_method" : "succeeded",
      latest_charge: null as string | null,
      last_payment_error: declined
        ? {
            type: "card_error",
            code: "card_declined",
            decline_code: declined,
            message: "Your card was declined.",
          }
        : null,
      metadata: meta,
    });
    const ch = put({
      id: stripeId("ch"),
      object: "charge",
      created: nowSeconds(),
      livemode: false,
      amount,
      amount_captured: declined ? 0 : amount,
      amount_refunded: 0,
      captured: !declined,
      currency,
      customer,
      paid: !declined,
      refunded: false,
      status: declined ? "failed" : "succeeded",
      failure_code: declined ? "card_declined" : null,
      failure_message: declined ? "Your card was declined." : null,
      outcome: declined ? { type: "issuer_declined", reason: declined } : { type: "authorized" },
      payment_intent: pi.id,
      metadata: meta,
    });
    pi.latest_charge = ch.id;
    return { pi, ch, declined };
  }

  function refund(body: FormObject): { refund: Obj } | { error: FakeReply } {
    const piId = str(body.payment_intent);
    const chId = str(body.charge);
    if (!piId && !chId) return { error: paramMissing("charge") };
    const pi = piId ? objects.get(piId) : undefined;
    if (piId && pi?.object !== "payment_intent") return { error: missing("payment_intent", piId) };
    const ch = objects.get(chId ?? String(pi?.latest_charge));
    if (!ch || ch.object !== "charge") return { error: missing("charge", chId ?? "") };
    if (ch.status !== "succeeded") {
      return {
        error: invalidParam("charge", `Charge ${ch.id} has not succeeded; it cannot be refunded.`),
      };
    }
    const left = (ch.amount as number) - (ch.amount_refunded as number);
    const amount = str(body.amount) === undefined ? left : Number(str(body.amount));
    if (left === 0) {
      return {
        error: stripeError(
          400,
          "invalid_request_error",
          `Charge ${ch.id} has already been refunded.`,
          {
            code: "charge_already_refunded",
          },
        ),
      };
    }
    if (!Number.isInteger(amount) || amount <= 0 || amount > left) {
      return {
        error: invalidParam(
          "amount",
          `Refund amount (${String(amount)}) is greater than unrefunded amount on charge (${String(left)})`,
        ),
      };
    }
    const r = put({
      id: stripeId("re"),
      object: "refund",
      created: nowSeconds(),
      amount,
      currency: ch.currency,
      charge: ch.id,
      payment_intent: ch.payment_intent,
      reason: str(body.reason) ?? null,
      status: "succeeded",
      metadata: metadata(body.metadata),
    });
    ch.amount_refunded = (ch.amount_refunded as number) + amount;
    ch.refunded = ch.amount_refunded === ch.amount;
    emit("charge.refunded", ch, {
      amount_refunded: (ch.amount_refunded as number) - amount,
      refunded: false,
    });
    return { refund: r };
  }

  return { priceFrom, charge, refund };
}
