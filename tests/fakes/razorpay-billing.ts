// The money side of the Razorpay fake: payments (captured, authorised or failed), the
// subscription life cycle (authorise on the hosted page, renewals, pending → halted on failed
// charges, cancel now or at cycle end), subscription invoices, orders, payment links and
// refunds. Entities are kept as the JSON Razorpay answers and mutated in place; every change
// emits the webhook Razorpay would send.
import { randomInt } from "node:crypto";

export type Json = Record<string, unknown>;
export type Entity = Json & { id: string };

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `pay_29QQoUBi66xm2f`: a prefix and 14 base-62 characters, as Razorpay's ids look. */
export function razorpayId(prefix: string): string {
  let s = "";
  for (let i = 0; i < 14; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return `${prefix}_${s}`;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Unix seconds one billing cycle after `from` for a plan's period and interval. */
export function nextCycle(from: number, period: string, interval: number): number {
  const d = new Date(from * 1000);
  if (period === "daily") d.setUTCDate(d.getUTCDate() + interval);
  else if (period === "weekly") d.setUTCDate(d.getUTCDate() + 7 * interval);
  else if (period === "yearly") d.setUTCFullYear(d.getUTCFullYear() + interval);
  else d.setUTCMonth(d.getUTCMonth() + interval);
  return Math.floor(d.getTime() / 1000);
}

interface Deps {
  entities: Map<string, Entity>;
  emit(event: string, payload: Record<string, { entity: Json }>): void;
  baseUrl(): string;
}

export interface RazorpayBilling {
  /** A payment; failed when the fail queue has an entry (or `fail`). */
  pay(input: PayInput): Entity;
  /** The hosted mandate page's Authorise: returns the failed payment, or null on success. */
  authorise(sub: Entity, fail: boolean, customer: CustomerInput): Entity | null;
  renew(sub: Entity, fail: boolean): void;
  cancel(sub: Entity, atCycleEnd: boolean): void;
  capture(payment: Entity): void;
  refund(payment: Entity, amount: number, notes: Json, speed: string): Entity;
  payLink(link: Entity, fail: boolean): Entity;
  failNext(reason: string, times: number): void;
}

export interface CustomerInput {
  name: string;
  email: string;
  contact: string;
}

export interface PayInput {
  amount: number;
  currency: string;
  method: string;
  customerId?: string | null;
  orderId?: string | null;
  invoiceId?: string | null;
  capture?: boolean;
  fail?: boolean;
  notes?: Json;
  description?: string;
}

export function createRazorpayBilling(deps: Deps): RazorpayBilling {
  const { entities, emit } = deps;
  const failQueue: string[] = [];
  const cancelAtCycleEnd = new Set<string>();
  const put = (e: Entity): Entity => {
    entities.set(e.id, e);
    return e;
  };
  // Events carry a snapshot of each entity: `{ payment: { entity: {...} } }`.
  const send = (event: string, parts: Record<string, Entity>) => {
    const out: Record<string, { entity: Json }> = {};
    for (const [k, v] of Object.entries(parts)) out[k] = { entity: structuredClone(v) };
    emit(event, out);
  };

  function pay(input: PayInput): Entity {
    const reason = input.fail ? "payment_failed" : failQueue.shift();
    const customer = input.customerId ? entities.get(input.customerId) : undefined;
    const captured = !reason && input.capture !== false;
    const p = put({
      id: razorpayId("pay"),
      entity: "payment",
      amount: input.amount,
      currency: input.currency,
      status: reason ? "failed" : captured ? "captured" : "authorized",
      order_id: input.orderId ?? null,
      invoice_id: input.invoiceId ?? null,
      international: false,
      method: input.method,
      amount_refunded: 0,
      refund_status: null,
      captured,
      description: input.description ?? null,
      card_id: null,
      bank: input.method === "emandate" ? "HDFC" : null,
      wallet: null,
      vpa: input.method === "upi" ? "success@razorpay" : null,
      email: (customer?.email as string | undefined) ?? "void@razorpay.com",
      contact: (customer?.contact as string | undefined) ?? "+919000090000",
      customer_id: input.customerId ?? null,
      token_id: input.customerId ? razorpayId("token") : null,
      notes: input.notes ?? [],
      fee: reason ? null : Math.round(input.amount * 0.02),
      tax: reason ? null : Math.round(input.amount * 0.02 * 0.18),
      error_code: reason ? "BAD_REQUEST_ERROR" : null,
      error_description: reason ? "Payment was unsuccessful as it was declined by the bank." : null,
      error_source: reason ? "bank" : null,
      error_step: reason ? "payment_authorization" : null,
      error_reason: reason ?? null,
      acquirer_data: {},
      created_at: nowSeconds(),
    });
    if (reason) send("payment.failed", { payment: p });
    else if (captured) send("payment.captured", { payment: p });
    else send("payment.authorized", { payment: p });
    return p;
  }

  function markOrderPaid(orderId: string | null, p: Entity): void {
    const order = orderId ? entities.get(orderId) : undefined;
    if (!order) return;
    order.attempts = (order.attempts as number) + 1;
    if (p.status !== "captured") {
      order.status = "attempted";
      return;
    }
    order.amount_paid = (order.amount_paid as number) + (p.amount as number);
    order.amount_due = Math.max(0, (order.amount as number) - (order.amount_paid as number));
    order.status = "paid";
    send("order.paid", { payment: p, order });
  }

  function invoiceFor(sub: Entity, p: Entity, start: number, end: number): Entity {
    const plan = entities.get(String(sub.plan_id))!;
    const item = plan.item as Json;
    const paid = p.status === "captured";
    const id = razorpayId("inv");
    const inv = put({
      id,
      entity: "invoice",
      type: "invoice",
      invoice_number: null,
      customer_id: sub.customer_id ?? null,
      order_id: null,
      subscription_id: sub.id,
      line_items: [
        {
          id: razorpayId("li"),
          item_id: item.id,
          name: item.name,
          description: item.description ?? null,
          amount: item.amount,
          unit_amount: item.amount,
          gross_amount: (item.amount as number) * (sub.quantity as number),
          currency: item.currency,
          type: "plan",
          quantity: sub.quantity,
        },
      ],
      payment_id: paid ? p.id : null,
      status: paid ? "paid" : "issued",
      amount: p.amount,
      amount_paid: paid ? p.amount : 0,
      amount_due: paid ? 0 : p.amount,
      currency: p.currency,
      billing_start: start,
      billing_end: end,
      paid_at: paid ? nowSeconds() : null,
      short_url: `${deps.baseUrl()}/pay/invoice/${id}`,
      created_at: nowSeconds(),
    });
    p.invoice_id = inv.id;
    return inv;
  }

  function chargeCycle(sub: Entity, fail: boolean, start: number): Entity {
    const plan = entities.get(String(sub.plan_id))!;
    const item = plan.item as Json;
    const end = nextCycle(start, String(plan.period), plan.interval as number);
    const p = pay({
      amount: (item.amount as number) * (sub.quantity as number),
      currency: String(item.currency),
      method: String(sub.payment_method ?? "upi"),
      customerId: sub.customer_id as string | null,
      fail,
      description: `Subscription ${sub.id}`,
    });
    invoiceFor(sub, p, start, end);
    if (p.status === "captured") {
      sub.current_start = start;
      sub.current_end = end;
      sub.charge_at = end;
      sub.paid_count = (sub.paid_count as number) + 1;
      sub.remaining_count = (sub.total_count as number) - (sub.paid_count as number);
    }
    return p;
  }

  function authorise(sub: Entity, fail: boolean, who: CustomerInput): Entity | null {
    sub.auth_attempts = (sub.auth_attempts as number) + 1;
    const now = nowSeconds();
    const later = (sub.start_at as number | null) !== null && (sub.start_at as number) > now;
    sub.payment_method = "upi";
    const linked = sub.customer_id;
    if (!sub.customer_id) {
      // The customer who authorises the mandate becomes the subscription's customer.
      const known = [...entities.values()].find(
        (e) => e.entity === "customer" && e.email === who.email && e.contact === who.contact,
      );
      sub.customer_id = (
        known ??
        put({
          id: razorpayId("cust"),
          entity: "customer",
          ...who,
          gstin: null,
          notes: [],
          created_at: now,
        })
      ).id;
    }
    if (later) {
      // A mandate for a future start: authorised now, charged at start_at.
      if (fail || failQueue.length > 0) {
        return pay({
          amount: 100,
          currency: "INR",
          method: "upi",
          customerId: sub.customer_id as string,
          fail,
        });
      }
      sub.status = "authenticated";
      send("subscription.authenticated", { subscription: sub });
      return null;
    }
    const p = chargeCycle(sub, fail, now);
    if (p.status !== "captured") {
      // Razorpay links the customer only once an authorisation succeeds.
      sub.customer_id = linked;
      return p;
    }
    sub.status = "authenticated";
    send("subscription.authenticated", { subscription: sub });
    sub.status = "active";
    sub.start_at ??= now;
    send("subscription.activated", { subscription: sub });
    send("subscription.charged", { subscription: sub, payment: p });
    return null;
  }

  function end(sub: Entity, status: "cancelled" | "completed"): void {
    sub.status = status;
    sub.ended_at = nowSeconds();
    sub.charge_at = null;
    cancelAtCycleEnd.delete(sub.id);
    send(`subscription.${status}`, { subscription: sub });
  }

  function renew(sub: Entity, fail: boolean): void {
    const status = String(sub.status);
    if (!["authenticated", "active", "pending", "halted"].includes(status)) {
      throw new Error(`razorpay fake: ${sub.id} is ${status}; it does not renew`);
    }
    if (cancelAtCycleEnd.has(sub.id)) return end(sub, "cancelled");
    // A mandate authorised ahead of start_at is first charged at start_at.
    const start =
      status === "authenticated"
        ? ((sub.start_at as number | null) ?? nowSeconds())
        : ((sub.current_end as number | null) ?? nowSeconds());
    const p = chargeCycle(sub, fail, start);
    if (p.status !== "captured") {
      // First failure: pending while Razorpay retries; failing again while pending: halted.
      if (status === "active" || status === "authenticated") {
        sub.status = "pending";
        send("subscription.pending", { subscription: sub });
      } else if (status === "pending") {
        sub.status = "halted";
        send("subscription.halted", { subscription: sub });
      }
      return;
    }
    sub.status = "active";
    if (status !== "active") send("subscription.activated", { subscription: sub });
    send("subscription.charged", { subscription: sub, payment: p });
    if ((sub.remaining_count as number) <= 0) end(sub, "completed");
  }

  function cancel(sub: Entity, atCycleEnd: boolean): void {
    if (atCycleEnd && sub.status === "active") {
      cancelAtCycleEnd.add(sub.id);
      return;
    }
    end(sub, "cancelled");
  }

  function capture(p: Entity): void {
    p.status = "captured";
    p.captured = true;
    send("payment.captured", { payment: p });
    markOrderPaid(p.order_id as string | null, p);
  }

  function refund(p: Entity, amount: number, notes: Json, speed: string): Entity {
    const r = put({
      id: razorpayId("rfnd"),
      entity: "refund",
      amount,
      currency: p.currency,
      payment_id: p.id,
      notes,
      receipt: null,
      acquirer_data: { arn: null },
      created_at: nowSeconds(),
      batch_id: null,
      status: "processed",
      speed_processed: "normal",
      speed_requested: speed,
    });
    p.amount_refunded = (p.amount_refunded as number) + amount;
    const full = p.amount_refunded === p.amount;
    p.refund_status = full ? "full" : "partial";
    if (full) p.status = "refunded";
    send("refund.processed", { refund: r, payment: p });
    return r;
  }

  function payLink(link: Entity, fail: boolean): Entity {
    const order = put({
      id: razorpayId("order"),
      entity: "order",
      amount: link.amount,
      amount_paid: 0,
      amount_due: link.amount,
      currency: link.currency,
      receipt: link.reference_id ?? null,
      offer_id: null,
      status: "created",
      attempts: 0,
      notes: link.notes ?? [],
      created_at: nowSeconds(),
    });
    link.order_id = order.id;
    const p = pay({
      amount: link.amount as number,
      currency: String(link.currency),
      method: "upi",
      orderId: order.id,
      fail,
      notes: link.notes as Json,
    });
    markOrderPaid(order.id, p);
    if (p.status !== "captured") return p;
    link.status = "paid";
    link.amount_paid = link.amount;
    link.updated_at = nowSeconds();
    link.payments = [
      {
        amount: p.amount,
        created_at: p.created_at,
        method: p.method,
        payment_id: p.id,
        status: "captured",
      },
    ];
    send("payment_link.paid", { payment_link: link, payment: p, order });
    return p;
  }

  return {
    pay(input) {
      const p = pay(input);
      markOrderPaid(input.orderId ?? null, p);
      return p;
    },
    authorise,
    renew,
    cancel,
    capture,
    refund,
    payLink,
    failNext(reason, times) {
      for (let i = 0; i < times; i++) failQueue.push(reason);
    },
  };
}
