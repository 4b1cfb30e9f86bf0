// Subscriptions and invoices of the Stripe fake: completing a Checkout Session, price changes
// with proration, cancel at period end, renewals, charging invoices (prices, charges and refunds
// are in stripe-payments.ts). Objects are kept as the JSON Stripe would answer and mutated in
// place; every change emits the event Stripe would send.
import type { FakeReply } from "./base";
import { createStripePayments } from "./stripe-payments";
import {
  bool,
  type FormObject,
  list,
  metadata,
  nowSeconds,
  obj,
  str,
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
  previewInvoice(sub: Obj, details: FormObject): Obj | string;
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

  const { priceFrom, charge, refund } = createStripePayments({ objects, emit, failQueue });
  const put = <T extends Obj>(o: T): T => {
    objects.set(o.id, o);
    return o;
  };

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

  /** Items after `changes` and the proration lines they cost at `at` (nothing is mutated). */
  function planChange(
    sub: Obj,
    changes: FormObject[],
    behavior: string,
    at: number,
  ): { newItems: Obj[]; prorations: Obj[] } | string {
    if (!["create_prorations", "always_invoice", "none"].includes(behavior)) {
      return "Invalid proration_behavior: must be one of always_invoice, create_prorations, or none";
    }
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
      // Stripe credits the unused time on the old price and charges the rest on the new one.
      const frac = Math.max(0, Math.min(1, (end - at) / (end - start)));
      if (behavior !== "none") {
        const period = { start: at, end };
        const oldAmt = (oldPrice.unit_amount as number) * (target.quantity as number);
        const newAmt = (price.unit_amount as number) * qty;
        const currency = String(sub.currency);
        prorations.push(
          invoiceLine(
            -Math.round(oldAmt * frac),
            currency,
            "Unused time on previous plan",
            period,
            oldPrice,
          ),
          invoiceLine(
            Math.round(newAmt * frac),
            currency,
            "Remaining time on new plan",
            period,
            price,
          ),
        );
      }
      target.price = price;
      target.quantity = qty;
    }
    return { newItems, prorations };
  }

  function updateSubscription(sub: Obj, body: FormObject): Obj | string {
    if (sub.status === "canceled") return "A canceled subscription can only update its metadata.";
    const previous: Json = {};
    const cancel = bool(body.cancel_at_period_end);
    const changes = list(body.items);
    const behavior = str(body.proration_behavior) ?? "create_prorations";
    const at = Number(str(body.proration_date) ?? nowSeconds());
    const planned = planChange(sub, changes, behavior, at);
    if (typeof planned === "string") return planned;
    const { newItems, prorations } = planned;
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

  /**
   * `POST /v1/invoices/create_preview` for a subscription change: with always_invoice, the
   * invoice the change would charge now; otherwise the next renewal's invoice (pending and new
   * prorations plus the next period). Not stored.
   */
  function previewInvoice(sub: Obj, details: FormObject): Obj | string {
    const behavior = str(details.proration_behavior) ?? "create_prorations";
    const at = Number(str(details.proration_date) ?? nowSeconds());
    const planned = planChange(sub, list(details.items), behavior, at);
    if (typeof planned === "string") return planned;
    const currency = String(sub.currency);
    const next = planned.newItems.map((it) => {
      const price = it.price as Obj;
      const rec = price.recurring as { interval: string; interval_count: number };
      const { end } = periodOf(it);
      const period = { start: end, end: addInterval(end, rec.interval, rec.interval_count) };
      const amt = (price.unit_amount as number) * (it.quantity as number);
      return invoiceLine(amt, currency, `${String(it.quantity)} × plan`, period, price);
    });
    const lines =
      behavior === "always_invoice"
        ? planned.prorations
        : [...(pendingProrations.get(sub.id) ?? []), ...planned.prorations, ...next];
    const latest = sub.latest_invoice;
    const draft = makeInvoice(String(sub.customer), currency, lines, "upcoming", sub);
    objects.delete(draft.id);
    invoiceSeq -= 1;
    sub.latest_invoice = latest;
    return { ...draft, id: `upcoming_${draft.id}`, status: "draft", number: null };
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

  return {
    sessionExtras,
    priceFrom,
    completeCheckout,
    updateSubscription,
    previewInvoice,
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
