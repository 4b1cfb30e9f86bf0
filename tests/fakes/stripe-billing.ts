// The money side of the Stripe fake: prices, completing a Checkout Session, subscriptions
// (price changes with proration, cancel at period end, renewals), invoices, payment intents,
// charges and refunds. Objects are kept as the JSON Stripe would answer and mutated in place;
// every change emits the event Stripe would send.
import type { FakeReply } from "./base";
import {
  bool,
  type FormObject,
  invalidParam,
  list,
  metadata,
  missing,
  nowSeconds,
  obj,
  paramMissing,
  str,
  stripeError,
  stripeId,
} from "./stripe-wire";

export type Json = Record<string, unknown>;
export type Obj = Json & { id: string };

export interface SessionExtras {
  lines: Obj[];
  subscriptionMetadata: Record<string, string>;
  trialDays: number;
  paymentMetadata: Record<string, string>;
}

export interface StripeBilling {
  sessionExtras: Map<string, SessionExtras>;
  /** A price from `POST /v1/prices` params or `price_data`; a string is the error message. */
  priceFrom(body: FormObject): Obj | string;
  /** Pays a Checkout Session; returns the decline code when the charge fails. */
  completeCheckout(session: Obj): string | null;
  updateSubscription(sub: Obj, body: FormObject): Obj | string;
  cancelNow(sub: Obj): Obj;
  subscriptionOf(invoice: Obj): string | null;
  /** Charges an open invoice; returns the decline code when it fails. */
  payInvoice(invoice: Obj): string | null;
  refund(body: FormObject): { refund: Obj } | { error: FakeReply };
  failNext(code: string, times: number): void;
  renew(sub: Obj, fail: boolean): void;
}

interface Deps {
  objects: Map<string, Obj>;
  emit(type: string, object: Obj, previousAttributes?: Json): void;
  baseUrl(): string;
}

const DAY = 24 * 3600;

/** Unix seconds `count` intervals after `from`, calendar-aware as Stripe bills. */
export function addInterval(from: number, interval: string, count = 1): number {
  const d = new Date(from * 1000);
  if (interval === "day") d.setUTCDate(d.getUTCDate() + count);
  else if (interval === "week") d.setUTCDate(d.getUTCDate() + 7 * count);
  else if (interval === "year") d.setUTCFullYear(d.getUTCFullYear() + count);
  else d.setUTCMonth(d.getUTCMonth() + count);
  return Math.floor(d.getTime() / 1000);
}

export function createStripeBilling(deps: Deps): StripeBilling {
  const { objects, emit } = deps;
  const sessionExtras = new Map<string, SessionExtras>();
  const pendingProrations = new Map<string, Obj[]>();
  const failQueue: string[] = [];
  let invoiceSeq = 0;

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

  function invoiceLine(
    amount: number,
    currency: string,
    description: string,
    period: Json,
    price?: Obj,
  ): Obj {
    return {
      id: stripeId("il"),
      object: "line_item",
      amount,
      currency,
      description,
      period,
      quantity: 1,
      pricing: price
        ? { type: "price_details", price_details: { price: price.id, product: price.product } }
        : null,
    };
  }

  function makeInvoice(
    customer: string,
    currency: string,
    lines: Obj[],
    reason: string,
    sub?: Obj,
  ): Obj {
    const total = lines.reduce((s, l) => s + (l.amount as number), 0);
    const periods = lines.map((l) => l.period as { start: number; end: number });
    const id = stripeId("in");
    const cust = objects.get(customer);
    invoiceSeq += 1;
    const inv = put({
      id,
      object: "invoice",
      created: nowSeconds(),
      livemode: false,
      customer,
      customer_email: (cust?.email as string | null) ?? null,
      currency,
      billing_reason: reason,
      collection_method: "charge_automatically",
      number: `${String(cust?.invoice_prefix ?? "FAKE")}-${String(invoiceSeq).padStart(4, "0")}`,
      status: "open",
      subtotal: total,
      total,
      amount_due: Math.max(total, 0),
      amount_paid: 0,
      amount_remaining: Math.max(total, 0),
      attempt_count: 0,
      attempted: false,
      period_start: Math.min(...periods.map((p) => p.start)),
      period_end: Math.max(...periods.map((p) => p.end)),
      hosted_invoice_url: `${deps.baseUrl()}/pay/invoice/${id}`,
      invoice_pdf: null,
      lines: { object: "list", data: lines, has_more: false, url: `/v1/invoices/${id}/lines` },
      parent: sub
        ? {
            type: "subscription_details",
            quote_details: null,
            subscription_details: { subscription: sub.id, metadata: sub.metadata },
          }
        : null,
      payments: { object: "list", data: [] as Obj[], has_more: false, url: `/v1/invoice_payments` },
      status_transitions: { finalized_at: nowSeconds(), paid_at: null as number | null },
      metadata: {},
    });
    if (sub) sub.latest_invoice = id;
    return inv;
  }

  function payInvoice(inv: Obj): string | null {
    const due = inv.amount_due as number;
    inv.attempt_count = (inv.attempt_count as number) + 1;
    inv.attempted = true;
    const sub = objects.get(subscriptionOf(inv) ?? "");
    if (due > 0) {
      const { pi, declined } = charge(String(inv.customer), due, String(inv.currency), {});
      (inv.payments as { data: Obj[] }).data.push({
        id: stripeId("inpay"),
        object: "invoice_payment",
        invoice: inv.id,
        amount_paid: declined ? null : due,
        amount_requested: due,
        currency: inv.currency,
        status: declined ? "open" : "paid",
        payment: { type: "payment_intent", payment_intent: pi.id },
      });
      if (declined) {
        emit("invoice.payment_failed", inv);
        if (sub && sub.status !== "past_due") {
          const before = sub.status;
          sub.status = "past_due";
          emit("customer.subscription.updated", sub, { status: before });
        }
        return declined;
      }
    }
    inv.status = "paid";
    inv.amount_paid = due;
    inv.amount_remaining = 0;
    (inv.status_transitions as Obj).paid_at = nowSeconds();
    emit("invoice.paid", inv);
    if (sub && (sub.status === "past_due" || sub.status === "incomplete")) {
      const before = sub.status;
      sub.status = "active";
      emit("customer.subscription.updated", sub, { status: before });
    }
    return null;
  }

  function subscriptionOf(inv: Obj): string | null {
    const parent = inv.parent as { subscription_details?: { subscription?: string } } | null;
    return parent?.subscription_details?.subscription ?? null;
  }

  function item(price: Obj, quantity: number, subId: string, start: number): Obj {
    const rec = price.recurring as { interval: string; interval_count: number };
    return {
      id: stripeId("si"),
      object: "subscription_item",
      created: nowSeconds(),
      price,
      quantity,
      subscription: subId,
      current_period_start: start,
      current_period_end: addInterval(start, rec.interval, rec.interval_count),
      metadata: {},
    };
  }

  const itemsOf = (sub: Obj) => (sub.items as { data: Obj[] }).data;
  const periodOf = (it: Obj) => ({
    start: it.current_period_start as number,
    end: it.current_period_end as number,
  });

  function completeCheckout(s: Obj): string | null {
    const extras = sessionExtras.get(s.id)!;
    let customer = s.customer as string | null;
    if (!customer) {
      customer = put({
        id: stripeId("cus"),
        object: "customer",
        created: nowSeconds(),
        livemode: false,
        email: s.customer_email,
        name: null,
        balance: 0,
        metadata: {},
        invoice_prefix: stripeId("").slice(1, 9).toUpperCase(),
      }).id;
    }
    const currency = String(s.currency);
    const amount = s.amount_total as number;
    if (s.mode === "payment") {
      const { pi, declined } = charge(customer, amount, currency, extras.paymentMetadata);
      if (declined) return declined;
      s.payment_intent = pi.id;
    } else {
      const now = nowSeconds();
      const trialEnd = extras.trialDays > 0 ? now + extras.trialDays * DAY : null;
      const subId = stripeId("sub");
      const items = extras.lines.map((l) => item(l.price as Obj, l.quantity as number, subId, now));
      if (trialEnd) for (const it of items) it.current_period_end = trialEnd;
      const sub: Obj = {
        id: subId,
        object: "subscription",
        created: now,
        livemode: false,
        customer,
        currency,
        status: "incomplete",
        items: {
          object: "list",
          data: items,
          has_more: false,
          url: `/v1/subscription_items?subscription=${subId}`,
        },
        billing_cycle_anchor: trialEnd ?? now,
        start_date: now,
        cancel_at_period_end: false,
        cancel_at: null,
        canceled_at: null,
        ended_at: null,
        trial_start: trialEnd ? now : null,
        trial_end: trialEnd,
        latest_invoice: null,
        collection_method: "charge_automatically",
        metadata: extras.subscriptionMetadata,
      };
      const lines = items.map((it) => {
        const price = it.price as Obj;
        const amt = trialEnd ? 0 : (price.unit_amount as number) * (it.quantity as number);
        return invoiceLine(amt, currency, `${String(it.quantity)} × plan`, periodOf(it), price);
      });
      const inv = makeInvoice(customer, currency, lines, "subscription_create", sub);
      // Checkout charges before anything exists, so a decline leaves no subscription behind.
      const declined = failQueue[0];
      if (declined && (inv.amount_due as number) > 0) {
        failQueue.shift();
        objects.delete(inv.id);
        return declined;
      }
      objects.set(sub.id, sub);
      sub.status = trialEnd ? "trialing" : "active";
      emit("customer.subscription.created", sub);
      payInvoice(inv);
      s.subscription = sub.id;
      s.invoice = inv.id;
    }
    s.customer = customer;
    s.status = "complete";
    s.payment_status = "paid";
    emit("checkout.session.completed", s);
    return null;
  }

  function updateSubscription(sub: Obj, body: FormObject): Obj | string {
    if (sub.status === "canceled") return "A canceled subscription can only update its metadata.";
    const previous: Json = {};
    const cancel = bool(body.cancel_at_period_end);
    const changes = list(body.items);
    const behavior = str(body.proration_behavior) ?? "create_prorations";
    if (!["create_prorations", "always_invoice", "none"].includes(behavior)) {
      return "Invalid proration_behavior: must be one of always_invoice, create_prorations, or none";
    }
    const at = Number(str(body.proration_date) ?? nowSeconds());
    const prorations: Obj[] = [];
    const newItems = itemsOf(sub).map((it) => ({ ...it }));
    for (const change of changes) {
      const target = newItems.find((it) => it.id === str(change.id));
      if (str(change.id) && !target) return `No such subscription item: '${str(change.id)}'`;
      const priceId = str(change.price);
      const price = priceId
        ? objects.get(priceId)
        : change.price_data
          ? priceFrom(obj(change.price_data))
          : undefined;
      if (typeof price === "string") return price;
      if (!price || price.object !== "price") return `No such price: '${priceId ?? ""}'`;
      if (!price.recurring) return "The price specified is not recurring.";
      if (!target)
        return "items[][id] is required to change an existing item's price in this fake.";
      const oldPrice = target.price as Obj;
      const { start, end } = periodOf(target);
      const qty = Number(str(change.quantity) ?? target.quantity);
      const frac = Math.max(0, Math.min(1, (end - at) / (end - start)));
      if (behavior !== "none") {
        const period = { start: at, end };
        const oldAmt = (oldPrice.unit_amount as number) * (target.quantity as number);
        const newAmt = (price.unit_amount as number) * qty;
        prorations.push(
          invoiceLine(
            -Math.round(oldAmt * frac),
            String(sub.currency),
            "Unused time on previous plan",
            period,
            oldPrice,
          ),
        );
        prorations.push(
          invoiceLine(
            Math.round(newAmt * frac),
            String(sub.currency),
            "Remaining time on new plan",
            period,
            price,
          ),
        );
      }
      target.price = price;
      target.quantity = qty;
    }
    if (changes.length > 0) {
      previous.items = structuredClone(sub.items);
      (sub.items as { data: Obj[] }).data = newItems;
    }
    if (cancel !== undefined && cancel !== sub.cancel_at_period_end) {
      previous.cancel_at_period_end = sub.cancel_at_period_end;
      previous.cancel_at = sub.cancel_at;
      sub.cancel_at_period_end = cancel;
      sub.cancel_at = cancel ? periodOf(itemsOf(sub)[0]!).end : null;
      sub.canceled_at = cancel ? nowSeconds() : null;
    }
    if (body.metadata) {
      previous.metadata = sub.metadata;
      sub.metadata = metadata(body.metadata, sub.metadata as Record<string, string>);
    }
    if (Object.keys(previous).length === 0) return sub;
    emit("customer.subscription.updated", sub, previous);
    if (prorations.length > 0 && behavior === "always_invoice") {
      const inv = makeInvoice(
        String(sub.customer),
        String(sub.currency),
        prorations,
        "subscription_update",
        sub,
      );
      payInvoice(inv);
    } else if (prorations.length > 0) {
      pendingProrations.set(sub.id, [...(pendingProrations.get(sub.id) ?? []), ...prorations]);
    }
    return sub;
  }

  function cancelNow(sub: Obj): Obj {
    const before = sub.status;
    sub.status = "canceled";
    sub.canceled_at ??= nowSeconds();
    sub.ended_at = nowSeconds();
    emit("customer.subscription.deleted", sub, { status: before });
    return sub;
  }

  function renew(sub: Obj, fail: boolean): void {
    if (sub.status === "canceled") throw new Error(`stripe fake: ${sub.id} is canceled`);
    const items = itemsOf(sub);
    if (sub.cancel_at_period_end) {
      sub.status = "canceled";
      sub.ended_at = periodOf(items[0]!).end;
      emit("customer.subscription.deleted", sub, { status: "active" });
      return;
    }
    const previous: Json = { items: structuredClone(sub.items) };
    for (const it of items) {
      const rec = (it.price as Obj).recurring as { interval: string; interval_count: number };
      it.current_period_start = it.current_period_end;
      it.current_period_end = addInterval(
        it.current_period_end as number,
        rec.interval,
        rec.interval_count,
      );
    }
    if (sub.status === "trialing") {
      previous.status = "trialing";
      sub.status = "active";
    }
    emit("customer.subscription.updated", sub, previous);
    const lines = [
      ...(pendingProrations.get(sub.id) ?? []),
      ...items.map((it) => {
        const price = it.price as Obj;
        const amt = (price.unit_amount as number) * (it.quantity as number);
        return invoiceLine(
          amt,
          String(sub.currency),
          `${String(it.quantity)} × plan`,
          periodOf(it),
          price,
        );
      }),
    ];
    pendingProrations.delete(sub.id);
    const inv = makeInvoice(
      String(sub.customer),
      String(sub.currency),
      lines,
      "subscription_cycle",
      sub,
    );
    if (fail) failQueue.unshift("generic_decline");
    payInvoice(inv);
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

  return {
    sessionExtras,
    priceFrom,
    completeCheckout,
    updateSubscription,
    cancelNow,
    subscriptionOf,
    payInvoice,
    refund,
    failNext(code, times) {
      for (let i = 0; i < times; i++) failQueue.push(code);
    },
    renew,
  };
}
