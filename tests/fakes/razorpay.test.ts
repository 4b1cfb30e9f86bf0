import Razorpay from "razorpay";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rejected } from "../support/errors";
import { createFakeServer, type FakeServer } from "./base";
import { fakeEnv, fakeFactories, startFakes, stopFakes } from "./registry";
import {
  createRazorpayFake,
  FAKE_RAZORPAY_KEY_ID,
  FAKE_RAZORPAY_KEY_SECRET,
  FAKE_RAZORPAY_WEBHOOK_SECRET,
  razorpayFault,
  razorpaySignature,
  type RazorpayFake,
} from "./razorpay";

interface Event {
  event: string;
  contains: string[];
  created_at: number;
  payload: Record<string, { entity: Record<string, unknown> }>;
}

let fake: RazorpayFake;
let receiver: FakeServer;
let rp: Razorpay;
/** Events the receiver accepted after Razorpay.validateWebhookSignature, in arrival order. */
let received: { id: string; event: Event }[];

function sdk(keySecret = FAKE_RAZORPAY_KEY_SECRET): Razorpay {
  const client = new Razorpay({ key_id: FAKE_RAZORPAY_KEY_ID, key_secret: keySecret });
  // The SDK's axios instance; its paths already start with /v1.
  (client.api as unknown as { rq: { defaults: { baseURL?: string } } }).rq.defaults.baseURL =
    fake.url;
  return client;
}

beforeEach(async () => {
  fake = createRazorpayFake();
  await fake.start();
  rp = sdk();
  received = [];
  receiver = createFakeServer({
    name: "razorpay-receiver",
    routes: [
      {
        method: "POST",
        path: "/webhooks/razorpay",
        handler(req, res) {
          const ok = Razorpay.validateWebhookSignature(
            req.text,
            req.headers["x-razorpay-signature"] ?? "",
            FAKE_RAZORPAY_WEBHOOK_SECRET,
          );
          if (!ok) return res.text("bad signature", 400);
          received.push({ id: req.headers["x-razorpay-event-id"] ?? "", event: req.json<Event>() });
          return res.json({ ok: true });
        },
      },
    ],
  });
  await receiver.start();
  fake.setWebhook(`${receiver.url}/webhooks/razorpay`, FAKE_RAZORPAY_WEBHOOK_SECRET);
});

afterEach(async () => {
  await fake.stop();
  await receiver.stop();
});

interface SdkError {
  statusCode: number;
  error: { code: string; description: string; field?: string };
}

/** razorpay-node rejects with a plain `{ statusCode, error }` object, not an Error. */
async function sdkError(p: Promise<unknown>): Promise<SdkError> {
  const err = (await rejected(p)) as unknown as SdkError;
  expect(err.error).toBeDefined();
  return err;
}

/** Opens the hosted page and submits its form (its inputs, overridden by `fields`) with a button. */
async function press(
  url: string,
  button: "authorise" | "pay" | "fail",
  fields: Record<string, string> = {},
): Promise<Response> {
  const page = await (await fetch(url)).text();
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
  expect(page).toContain(`value="${button}"`);
  const inputs = [...page.matchAll(/<input name="([^"]+)" value="([^"]*)">/g)];
  const body = new URLSearchParams([...inputs.map((m) => [m[1]!, m[2]!]), ["action", button]]);
  for (const [k, v] of Object.entries(fields)) body.set(k, v);
  return fetch(new URL(action!, url), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
    redirect: "manual",
  });
}

const types = () => received.map((r) => r.event.event);

async function subscription(totalCount = 12) {
  const customer = await rp.customers.create({
    name: "Asha",
    email: "asha@shop.example",
    contact: "+919876543210",
    notes: { workspace: "shop" },
    fail_existing: 0,
  });
  const plan = await rp.plans.create({
    period: "monthly",
    interval: 1,
    item: { name: "Growth (monthly)", amount: 249900, currency: "INR" },
  });
  const sub = await rp.subscriptions.create({
    plan_id: plan.id,
    total_count: totalCount,
    customer_notify: 0,
    notes: { workspace: "shop" },
  });
  return { customer, plan, sub };
}

describe("Razorpay fake: wire format", () => {
  it("refuses wrong credentials with 401 and Razorpay's error shape", async () => {
    const err = await sdkError(sdk("wrong").customers.create({ name: "A" }));
    expect(err.statusCode).toBe(401);
    expect(err.error).toMatchObject({
      code: "BAD_REQUEST_ERROR",
      description: "Authentication failed",
    });
  });

  it("creates, fetches and edits customers; validation and unknown ids are 400s", async () => {
    const c = await rp.customers.create({
      name: "Asha",
      email: "a@shop.example",
      contact: "+919876543210",
    });
    expect(c.id).toMatch(/^cust_[A-Za-z0-9]{14}$/);
    expect(c).toMatchObject({ entity: "customer", email: "a@shop.example" });
    const dup = await sdkError(rp.customers.create({ name: "Asha", email: "a@shop.example" }));
    expect(dup.error.description).toContain("already exists");
    const same = await rp.customers.create({
      name: "Asha",
      email: "a@shop.example",
      fail_existing: 0,
    });
    expect(same.id).toBe(c.id);
    expect((await rp.customers.edit(c.id, { name: "Asha R" })).name).toBe("Asha R");
    expect((await rp.customers.fetch(c.id)).name).toBe("Asha R");
    const extra = await sdkError(rp.customers.edit(c.id, { gstin: "29ABCDE1234F1Z5" } as never));
    expect(extra.error.description).toBe("gstin is/are not required and should not be sent");
    const missing = await sdkError(rp.customers.fetch("cust_nope"));
    expect(missing.statusCode).toBe(400);
    expect(missing.error.description).toBe("The id provided does not exist");
    const bad = await sdkError(rp.orders.create({ amount: 50, currency: "INR" }));
    expect(bad.error).toMatchObject({ code: "BAD_REQUEST_ERROR", field: "amount" });
  });

  it("injected 429 and 500 reach the SDK with their status; the next call works", async () => {
    fake.injectFault(razorpayFault(429, 3), { match: { path: "/v1/orders" } });
    const rate = await sdkError(rp.orders.create({ amount: 10000, currency: "INR" }));
    expect(rate.statusCode).toBe(429);
    expect(fake.lastRequest("POST", "/v1/orders")).toBeDefined();
    fake.injectFault(razorpayFault(500));
    const down = await sdkError(rp.orders.create({ amount: 10000, currency: "INR" }));
    expect(down).toMatchObject({ statusCode: 500, error: { code: "SERVER_ERROR" } });
    expect((await rp.orders.create({ amount: 10000, currency: "INR" })).status).toBe("created");
    expect(fake.calls.filter((c) => c.path === "/v1/orders")).toHaveLength(3);
    expect(fake.calls[0]!.headers.authorization).toMatch(/^Basic /);
  });
});

describe("Razorpay fake: subscriptions and webhooks", () => {
  it("authorises the mandate on the hosted page: activated, charged, invoice paid", async () => {
    const { sub, customer } = await subscription();
    expect(sub).toMatchObject({ status: "created", paid_count: 0, remaining_count: 12 });
    expect(sub.short_url).toBe(`${fake.url}/pay/subscription/${sub.id}`);
    expect(sub.customer_id).toBeNull();
    // The payer types the e-mail and phone of the customer we created: Razorpay links it.
    const res = await press(sub.short_url, "authorise", {
      email: "asha@shop.example",
      contact: "+919876543210",
    });
    expect(res.status).toBe(200);
    await fake.settled();

    const active = await rp.subscriptions.fetch(sub.id);
    expect(active).toMatchObject({
      status: "active",
      paid_count: 1,
      remaining_count: 11,
      customer_id: customer.id,
    });
    expect(active.current_end).toBeGreaterThan(active.current_start!);
    expect(types()).toEqual([
      "payment.captured",
      "subscription.authenticated",
      "subscription.activated",
      "subscription.charged",
    ]);
    const charged = received[3]!.event;
    expect(charged.contains).toEqual(["subscription", "payment"]);
    const payment = charged.payload.payment!.entity;
    expect(payment).toMatchObject({ status: "captured", amount: 249900, currency: "INR" });
    expect(received.every((r) => r.id.startsWith("evt_"))).toBe(true);

    const invoices = await rp.invoices.all({ subscription_id: sub.id } as never);
    expect(invoices.items).toHaveLength(1);
    expect(invoices.items[0]).toMatchObject({
      status: "paid",
      amount_paid: 249900,
      payment_id: payment.id,
    });
    expect((await rp.payments.fetch(String(payment.id))).invoice_id).toBe(invoices.items[0]!.id);
  });

  it("a failed authorisation sends payment.failed and leaves the subscription created", async () => {
    const { sub } = await subscription();
    expect((await press(sub.short_url, "fail")).status).toBe(402);
    fake.failNextCharge("insufficient_funds");
    expect((await press(sub.short_url, "authorise")).status).toBe(402);
    await fake.settled();
    expect(types()).toEqual(["payment.failed", "payment.failed"]);
    expect(received[1]!.event.payload.payment!.entity).toMatchObject({
      status: "failed",
      error_reason: "insufficient_funds",
    });
    expect(await rp.subscriptions.fetch(sub.id)).toMatchObject({
      status: "created",
      auth_attempts: 2,
    });
  });

  it("renewals: charged, then pending and halted on failures, then charged again", async () => {
    const { sub } = await subscription();
    await press(sub.short_url, "authorise");
    await fake.settled();
    received = [];
    const first = await rp.subscriptions.fetch(sub.id);
    await fake.advanceSubscription(sub.id);
    expect(await rp.subscriptions.fetch(sub.id)).toMatchObject({
      paid_count: 2,
      current_start: first.current_end,
    });
    fake.failNextCharge();
    await fake.advanceSubscription(sub.id);
    expect((await rp.subscriptions.fetch(sub.id)).status).toBe("pending");
    await fake.advanceSubscription(sub.id, { fail: true });
    expect((await rp.subscriptions.fetch(sub.id)).status).toBe("halted");
    await fake.advanceSubscription(sub.id);
    await fake.settled();
    expect(await rp.subscriptions.fetch(sub.id)).toMatchObject({ status: "active", paid_count: 3 });
    expect(types()).toEqual([
      "payment.captured",
      "subscription.charged",
      "payment.failed",
      "subscription.pending",
      "payment.failed",
      "subscription.halted",
      "payment.captured",
      "subscription.activated",
      "subscription.charged",
    ]);
  });

  it("a future start_at is authenticated first and charged when the cycle comes", async () => {
    const plan = await rp.plans.create({
      period: "yearly",
      interval: 1,
      item: { name: "Growth (yearly)", amount: 2499000, currency: "INR" },
    });
    const startAt = Math.floor(Date.now() / 1000) + 14 * 24 * 3600;
    const sub = await rp.subscriptions.create({
      plan_id: plan.id,
      total_count: 5,
      start_at: startAt,
    });
    await press(sub.short_url, "authorise");
    expect(await rp.subscriptions.fetch(sub.id)).toMatchObject({
      status: "authenticated",
      paid_count: 0,
    });
    await fake.advanceSubscription(sub.id);
    await fake.settled();
    expect(await rp.subscriptions.fetch(sub.id)).toMatchObject({
      status: "active",
      paid_count: 1,
      current_start: startAt,
    });
    expect(types()).toEqual([
      "subscription.authenticated",
      "payment.captured",
      "subscription.activated",
      "subscription.charged",
    ]);
  });

  it("cancel at cycle end keeps it active until the cycle ends; cancel now ends it", async () => {
    const { sub } = await subscription();
    await press(sub.short_url, "authorise");
    const later = await rp.subscriptions.cancel(sub.id, true);
    expect(later.status).toBe("active");
    await fake.advanceSubscription(sub.id);
    await fake.settled();
    expect((await rp.subscriptions.fetch(sub.id)).status).toBe("cancelled");
    expect(types().at(-1)).toBe("subscription.cancelled");
    expect((await sdkError(rp.subscriptions.cancel(sub.id))).error.description).toContain(
      "not cancellable",
    );

    const other = await subscription();
    const now = await rp.subscriptions.cancel(other.sub.id);
    expect(now.status).toBe("cancelled");
    expect(now.ended_at).not.toBeNull();
  });

  it("signatures verify with validateWebhookSignature; wrong secret or re-serialised body do not", async () => {
    const signed = fake.signedEvent("payment.captured", {
      payment: { id: "pay_1", entity: "payment" },
    });
    const sig = signed.headers["x-razorpay-signature"];
    expect(Razorpay.validateWebhookSignature(signed.body, sig, FAKE_RAZORPAY_WEBHOOK_SECRET)).toBe(
      true,
    );
    expect(Razorpay.validateWebhookSignature(signed.body, sig, "other")).toBe(false);
    const reserialised = JSON.stringify(JSON.parse(signed.body), null, 2);
    expect(Razorpay.validateWebhookSignature(reserialised, sig, FAKE_RAZORPAY_WEBHOOK_SECRET)).toBe(
      false,
    );
    const stale = fake.signedEvent("payment.captured", {}, { createdAt: 1_600_000_000 });
    expect(JSON.parse(stale.body)).toMatchObject({ created_at: 1_600_000_000, entity: "event" });

    fake.setWebhook(`${receiver.url}/webhooks/razorpay`, "wrong_secret");
    expect((await fake.sendEvent("order.paid", { order: { id: "order_1" } }))?.status).toBe(400);
    expect(received).toEqual([]);
  });

  it("replays with the same event id and body; held events arrive in the order asked", async () => {
    const d = await fake.sendEvent("subscription.activated", { subscription: { id: "sub_1" } });
    const again = await fake.replay(d!.eventId);
    expect(again.body).toBe(d!.body);
    expect(received.map((r) => r.id)).toEqual([d!.eventId, d!.eventId]);
    received = [];
    fake.holdEvents();
    const a = await fake.sendEvent("subscription.authenticated", { subscription: { id: "sub_2" } });
    const b = await fake.sendEvent("subscription.activated", { subscription: { id: "sub_2" } });
    const c = await fake.sendEvent("subscription.charged", { subscription: { id: "sub_2" } });
    expect([a, b, c]).toEqual([null, null, null]);
    const ids = fake.events.slice(-3).map((e) => e.eventId);
    await fake.releaseEvents([ids[2]!, ids[0]!, ids[1]!]);
    expect(types()).toEqual([
      "subscription.charged",
      "subscription.authenticated",
      "subscription.activated",
    ]);
  });
});

describe("Razorpay fake: orders, payments, links, refunds", () => {
  it("pays an order with a Checkout signature, then refunds partly and fully", async () => {
    const order = await rp.orders.create({
      amount: 50000,
      currency: "INR",
      receipt: "wallet-1",
      notes: { kind: "wallet" },
    });
    const paid = fake.payOrder(order.id);
    const expected = razorpaySignature(
      `${order.id}|${paid.razorpay_payment_id}`,
      FAKE_RAZORPAY_KEY_SECRET,
    );
    expect(paid.razorpay_signature).toBe(expected);
    expect(await rp.orders.fetch(order.id)).toMatchObject({
      status: "paid",
      amount_paid: 50000,
      amount_due: 0,
    });

    const r1 = await rp.payments.refund(paid.razorpay_payment_id, { amount: 20000 });
    expect(r1).toMatchObject({ entity: "refund", amount: 20000, status: "processed" });
    expect((await rp.payments.fetch(paid.razorpay_payment_id)).refund_status).toBe("partial");
    await rp.payments.refund(paid.razorpay_payment_id, {});
    const p = await rp.payments.fetch(paid.razorpay_payment_id);
    expect(p).toMatchObject({ status: "refunded", amount_refunded: 50000, refund_status: "full" });
    const over = await sdkError(rp.payments.refund(paid.razorpay_payment_id, { amount: 100 }));
    expect(over.statusCode).toBe(400);
    await fake.settled();
    expect(types()).toEqual([
      "payment.captured",
      "order.paid",
      "refund.processed",
      "refund.processed",
    ]);
    expect(received[3]!.event.payload.refund!.entity).toMatchObject({ amount: 30000 });
  });

  it("captures an authorised payment once; a failed payment marks the order attempted", async () => {
    const order = await rp.orders.create({ amount: 10000, currency: "INR" });
    const failed = fake.payOrder(order.id, { fail: true });
    expect(failed.payment.status).toBe("failed");
    expect((await rp.orders.fetch(order.id)).status).toBe("attempted");
    const auth = fake.payOrder(order.id, { capture: false });
    expect((await rp.payments.fetch(auth.razorpay_payment_id)).status).toBe("authorized");
    const wrong = await sdkError(rp.payments.capture(auth.razorpay_payment_id, 5000, "INR"));
    expect(wrong.error.field).toBe("amount");
    const captured = await rp.payments.capture(auth.razorpay_payment_id, 10000, "INR");
    expect(captured.status).toBe("captured");
    expect(
      (await sdkError(rp.payments.capture(auth.razorpay_payment_id, 10000, "INR"))).statusCode,
    ).toBe(400);
    expect((await rp.orders.fetch(order.id)).status).toBe("paid");
    await fake.settled();
    expect(types()).toEqual([
      "payment.failed",
      "payment.authorized",
      "payment.captured",
      "order.paid",
    ]);
  });

  it("payment link: hosted page pays, redirects with a signed callback and sends payment_link.paid", async () => {
    const link = await rp.paymentLink.create({
      amount: 100000,
      currency: "INR",
      description: "Wallet top-up",
      reference_id: "topup-7",
      callback_url: "https://app.example/wallet/back",
      callback_method: "get",
      customer: { name: "Asha", email: "a@shop.example", contact: "+919876543210" },
    });
    expect(link.short_url).toBe(`${fake.url}/pay/link/${link.id}`);
    const res = await press(link.short_url, "pay");
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get("location")!);
    expect(back.origin + back.pathname).toBe("https://app.example/wallet/back");
    const q = Object.fromEntries(back.searchParams);
    expect(q.razorpay_payment_link_status).toBe("paid");
    expect(q.razorpay_signature).toBe(
      razorpaySignature(
        `${link.id}|topup-7|paid|${q.razorpay_payment_id!}`,
        FAKE_RAZORPAY_KEY_SECRET,
      ),
    );
    expect(await rp.paymentLink.fetch(link.id)).toMatchObject({
      status: "paid",
      amount_paid: 100000,
    });
    await fake.settled();
    expect(types()).toEqual(["payment.captured", "order.paid", "payment_link.paid"]);
    expect(received[2]!.event.contains).toEqual(["payment_link", "payment", "order"]);
  });
});

describe("Razorpay fake: registry", () => {
  it("is registered under RAZORPAY_API_BASE_URL, posting to RAZORPAY_FAKE_WEBHOOK_URL", async () => {
    expect(fakeFactories.razorpay?.envVar).toBe("RAZORPAY_API_BASE_URL");
    process.env.RAZORPAY_FAKE_WEBHOOK_URL = `${receiver.url}/webhooks/razorpay`;
    const started = await startFakes(["razorpay"]);
    delete process.env.RAZORPAY_FAKE_WEBHOOK_URL;
    try {
      const client = new Razorpay({
        key_id: FAKE_RAZORPAY_KEY_ID,
        key_secret: FAKE_RAZORPAY_KEY_SECRET,
      });
      const rq = (client.api as unknown as { rq: { defaults: { baseURL?: string } } }).rq;
      rq.defaults.baseURL = fakeEnv(started).RAZORPAY_API_BASE_URL;
      expect((await client.orders.create({ amount: 10000, currency: "INR" })).id).toMatch(
        /^order_/,
      );
      const registered = started[0]!.fake as RazorpayFake;
      expect((await registered.sendEvent("order.paid", { order: { id: "order_9" } }))?.status).toBe(
        200,
      );
      expect(types()).toEqual(["order.paid"]);
    } finally {
      await stopFakes(started);
    }
  });
});
