import Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rejected } from "../support/errors";
import { createFakeServer, type FakeServer } from "./base";
import { fakeEnv, fakeFactories, startFakes, stopFakes } from "./registry";
import {
  createStripeFake,
  decodeStripeForm,
  FAKE_STRIPE_SECRET_KEY,
  FAKE_STRIPE_WEBHOOK_SECRET,
  stripeFault,
  type StripeFake,
} from "./stripe";

let fake: StripeFake;
let receiver: FakeServer;
let stripe: Stripe;
/** Events the receiver accepted, verified by stripe-node's own verifier, in arrival order. */
let received: Stripe.Event[];

function sdk(key = FAKE_STRIPE_SECRET_KEY): Stripe {
  const port = Number(new URL(fake.url).port);
  return new Stripe(key, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0 });
}

beforeEach(async () => {
  fake = createStripeFake();
  await fake.start();
  stripe = sdk();
  received = [];
  receiver = createFakeServer({
    name: "stripe-receiver",
    routes: [
      {
        method: "POST",
        path: "/webhooks/stripe",
        handler(req, res) {
          try {
            const event = stripe.webhooks.constructEvent(
              req.rawBody,
              req.headers["stripe-signature"] ?? "",
              FAKE_STRIPE_WEBHOOK_SECRET,
            );
            received.push(event);
            return res.json({ received: true });
          } catch (err) {
            return res.text(err instanceof Error ? err.message : String(err), 400);
          }
        },
      },
    ],
  });
  await receiver.start();
  fake.setWebhook(`${receiver.url}/webhooks/stripe`, FAKE_STRIPE_WEBHOOK_SECRET);
});

afterEach(async () => {
  await fake.stop();
  await receiver.stop();
});

/** What the SDK rejected with, checked to be one of its StripeErrors. */
async function sdkError(p: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const err = await rejected(p);
  expect(err).toBeInstanceOf(Stripe.errors.StripeError);
  return err as Stripe.errors.StripeError;
}

async function subscriptionCheckout(unitAmount = 2900, email = "owner@shop.example") {
  const customer = await stripe.customers.create({ email, metadata: { workspace: "shop" } });
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    success_url: "https://app.example/billing/done?session={CHECKOUT_SESSION_ID}",
    cancel_url: "https://app.example/billing",
    line_items: [
      {
        quantity: 1,
        price_data: {
          currency: "usd",
          unit_amount: unitAmount,
          recurring: { interval: "month" },
          product_data: { name: "Growth" },
        },
      },
    ],
    subscription_data: { metadata: { workspace: "shop", plan: "growth" } },
  });
  return { customer, session };
}

/** Opens the hosted page, reads its form and presses a button, as a browser would. */
async function press(url: string, button: "pay" | "decline"): Promise<Response> {
  const page = await (await fetch(url)).text();
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
  expect(page).toContain(`value="${button}"`);
  return fetch(new URL(action!, url), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ action: button }),
    redirect: "manual",
  });
}

describe("Stripe fake: wire format", () => {
  it("decodes Stripe's bracket syntax into nested objects and arrays", () => {
    expect(
      decodeStripeForm(
        "metadata[workspace]=x&line_items[0][price]=p1&line_items[1][price_data][unit_amount]=5&expand[]=a&expand[]=b",
      ),
    ).toEqual({
      metadata: { workspace: "x" },
      line_items: [{ price: "p1" }, { price_data: { unit_amount: "5" } }],
      expand: ["a", "b"],
    });
  });

  it("refuses a wrong key with 401 and Stripe's error shape, which the SDK maps", async () => {
    const err = await sdkError(sdk("sk_test_wrong").customers.create({ email: "a@b.example" }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(err.statusCode).toBe(401);
    expect(err.message).toContain("Invalid API Key provided");
    const raw = await fetch(`${fake.url}/v1/customers/cus_x`);
    expect(raw.status).toBe(401);
    expect(await raw.json()).toMatchObject({ error: { type: "invalid_request_error" } });
  });

  it("creates, retrieves and updates customers; unknown ids are resource_missing", async () => {
    const c = await stripe.customers.create({
      email: "a@shop.example",
      name: "Asha",
      metadata: { workspace: "shop" },
    });
    expect(c).toMatchObject({ object: "customer", livemode: false, email: "a@shop.example" });
    expect(c.id).toMatch(/^cus_/);
    const updated = await stripe.customers.update(c.id, { name: "Asha R", metadata: { gst: "1" } });
    expect(updated.metadata).toEqual({ workspace: "shop", gst: "1" });
    expect((await stripe.customers.retrieve(c.id)) as Stripe.Customer).toMatchObject({
      name: "Asha R",
    });
    const err = await sdkError(stripe.customers.retrieve("cus_nope"));
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe("resource_missing");
  });

  it("replays an Idempotency-Key with the same body and refuses it with another", async () => {
    const a = await stripe.customers.create({ email: "x@shop.example" }, { idempotencyKey: "k1" });
    const b = await stripe.customers.create({ email: "x@shop.example" }, { idempotencyKey: "k1" });
    expect(b.id).toBe(a.id);
    expect(b.lastResponse.headers["idempotent-replayed"]).toBe("true");
    const err = await sdkError(
      stripe.customers.create({ email: "y@shop.example" }, { idempotencyKey: "k1" }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(err.statusCode).toBe(400);
    const list = fake.calls.filter((c) => c.method === "POST" && c.path === "/v1/customers");
    expect(list).toHaveLength(3);
  });

  it("injected 429 (with Retry-After), 500 and a hang reach the SDK as its errors", async () => {
    fake.injectFault(stripeFault(429, 7), { match: { path: "/v1/customers" } });
    const rate = await sdkError(stripe.customers.create({ email: "a@b.example" }));
    expect(rate).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(rate.headers?.["retry-after"]).toBe("7");
    fake.injectFault(stripeFault(500));
    const down = await sdkError(stripe.customers.create({ email: "a@b.example" }));
    expect(down).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(down.statusCode).toBe(500);
    fake.injectFault({ kind: "hang" });
    const port = Number(new URL(fake.url).port);
    const impatient = new Stripe(FAKE_STRIPE_SECRET_KEY, {
      host: "127.0.0.1",
      port,
      protocol: "http",
      maxNetworkRetries: 0,
      timeout: 200,
    });
    expect(await sdkError(impatient.customers.create({ email: "a@b.example" }))).toBeInstanceOf(
      Stripe.errors.StripeConnectionError,
    );
    // After the faults, the same call works.
    expect((await stripe.customers.create({ email: "a@b.example" })).id).toMatch(/^cus_/);
  });
});

describe("Stripe fake: checkout and webhooks", () => {
  it("pays a subscription on the hosted page: subscription, invoice and signed events", async () => {
    const { customer, session } = await subscriptionCheckout();
    expect(session).toMatchObject({ status: "open", mode: "subscription", amount_total: 2900 });
    expect(session.url).toBe(`${fake.url}/pay/checkout/${session.id}`);

    const res = await press(session.url!, "pay");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(
      `https://app.example/billing/done?session=${session.id}`,
    );
    await fake.settled();

    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done).toMatchObject({ status: "complete", payment_status: "paid" });
    const sub = await stripe.subscriptions.retrieve(done.subscription as string);
    expect(sub).toMatchObject({
      status: "active",
      customer: customer.id,
      metadata: { plan: "growth" },
    });
    const item = sub.items.data[0]!;
    expect(item.price.unit_amount).toBe(2900);
    expect(item.current_period_end).toBeGreaterThan(item.current_period_start);
    const invoice = await stripe.invoices.retrieve(sub.latest_invoice as string);
    expect(invoice).toMatchObject({ status: "paid", amount_paid: 2900, currency: "usd" });
    expect(invoice.parent?.subscription_details?.subscription).toBe(sub.id);
    expect(await (await fetch(invoice.hosted_invoice_url!)).text()).toContain("paid");
    const listed = await stripe.subscriptions.list({ customer: customer.id });
    expect(listed.data.map((s) => s.id)).toEqual([sub.id]);

    expect(received.map((e) => e.type)).toEqual([
      "customer.subscription.created",
      "invoice.paid",
      "checkout.session.completed",
    ]);
    expect(fake.deliveries.every((d) => d.status === 200)).toBe(true);
    const completed = received[2]!.data.object as Stripe.Checkout.Session;
    expect(completed.subscription).toBe(sub.id);
  });

  it("Decline (or a failing card) leaves the session open and sends nothing", async () => {
    const { session } = await subscriptionCheckout();
    const declined = await press(session.url!, "decline");
    expect(declined.status).toBe(402);
    expect(await declined.text()).toContain("Your card was declined.");
    fake.failNextCharge();
    expect((await press(session.url!, "pay")).status).toBe(402);
    await fake.settled();
    expect(received).toEqual([]);
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe("open");
    expect((await stripe.subscriptions.list({})).data).toEqual([]);
    // The card works the third time.
    expect((await press(session.url!, "pay")).status).toBe(303);
  });

  it("one-off payment mode creates a payment intent that can be refunded", async () => {
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      customer_email: "w@shop.example",
      success_url: "https://app.example/wallet",
      line_items: [
        {
          quantity: 2,
          price_data: {
            currency: "usd",
            unit_amount: 500,
            product_data: { name: "Wallet top-up" },
          },
        },
      ],
      payment_intent_data: { metadata: { kind: "wallet" } },
    });
    expect((await press(session.url!, "pay")).status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(session.id);
    const pi = await stripe.paymentIntents.retrieve(done.payment_intent as string);
    expect(pi).toMatchObject({ status: "succeeded", amount: 1000, metadata: { kind: "wallet" } });
    expect(done.customer).toMatch(/^cus_/);

    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 400 });
    expect(refund).toMatchObject({ status: "succeeded", amount: 400 });
    const rest = await stripe.refunds.create({ payment_intent: pi.id });
    expect(rest.amount).toBe(600);
    const again = await sdkError(stripe.refunds.create({ payment_intent: pi.id }));
    expect(again.code).toBe("charge_already_refunded");
    await fake.settled();
    const refunds = received.filter((e) => e.type === "charge.refunded");
    expect(refunds.map((e) => (e.data.object as Stripe.Charge).amount_refunded)).toEqual([
      400, 1000,
    ]);
    expect((refunds[1]!.data.object as Stripe.Charge).refunded).toBe(true);
  });

  it("events verify with constructEvent; wrong secret, re-serialised body and stale time do not", async () => {
    const { body, headers, event } = fake.signedEvent("invoice.paid", {
      id: "in_1",
      object: "invoice",
    });
    expect(
      stripe.webhooks.constructEvent(body, headers["stripe-signature"], FAKE_STRIPE_WEBHOOK_SECRET)
        .id,
    ).toBe(event.id);
    expect(() =>
      stripe.webhooks.constructEvent(body, headers["stripe-signature"], "whsec_other"),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);
    const reserialised = JSON.stringify(JSON.parse(body), null, 2);
    expect(() =>
      stripe.webhooks.constructEvent(
        reserialised,
        headers["stripe-signature"],
        FAKE_STRIPE_WEBHOOK_SECRET,
      ),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);
    const stale = fake.signedEvent(
      "invoice.paid",
      { id: "in_1" },
      { timestamp: Math.floor(Date.now() / 1000) - 3600 },
    );
    expect(() =>
      stripe.webhooks.constructEvent(
        stale.body,
        stale.headers["stripe-signature"],
        FAKE_STRIPE_WEBHOOK_SECRET,
      ),
    ).toThrow(/timestamp outside the tolerance zone/i);

    // Posted with a wrong secret, the receiver refuses it.
    fake.setWebhook(`${receiver.url}/webhooks/stripe`, "whsec_wrong");
    const d = await fake.sendEvent("invoice.paid", { id: "in_2", object: "invoice" });
    expect(d?.status).toBe(400);
    expect(received).toEqual([]);
  });

  it("replays an event with the same id and delivers held events out of order", async () => {
    const first = await fake.sendEvent("customer.subscription.created", {
      id: "sub_1",
      object: "subscription",
    });
    const again = await fake.replay(first!.eventId);
    expect(again.status).toBe(200);
    expect(received.map((e) => e.id)).toEqual([first!.eventId, first!.eventId]);

    received = [];
    fake.holdEvents();
    await fake.sendEvent("customer.subscription.created", { id: "sub_2", object: "subscription" });
    await fake.sendEvent("customer.subscription.updated", { id: "sub_2", object: "subscription" });
    await fake.sendEvent("customer.subscription.deleted", { id: "sub_2", object: "subscription" });
    expect(received).toEqual([]);
    await fake.releaseEvents("reverse");
    expect(received.map((e) => e.type)).toEqual([
      "customer.subscription.deleted",
      "customer.subscription.updated",
      "customer.subscription.created",
    ]);
    expect((await stripe.events.retrieve(received[0]!.id)).type).toBe(
      "customer.subscription.deleted",
    );
  });
});

describe("Stripe fake: subscription lifecycle", () => {
  async function paidSubscription(): Promise<Stripe.Subscription> {
    const { session } = await subscriptionCheckout(3000);
    await press(session.url!, "pay");
    const done = await stripe.checkout.sessions.retrieve(session.id);
    await fake.settled();
    received = [];
    return stripe.subscriptions.retrieve(done.subscription as string);
  }

  it("renews into a paid invoice, then a declined renewal goes past_due and pays on retry", async () => {
    const sub = await paidSubscription();
    const end = sub.items.data[0]!.current_period_end;
    await fake.advanceSubscription(sub.id);
    await fake.settled();
    const renewed = await stripe.subscriptions.retrieve(sub.id);
    expect(renewed.items.data[0]!.current_period_start).toBe(end);
    expect(received.map((e) => e.type)).toEqual(["customer.subscription.updated", "invoice.paid"]);
    const paid = received[1]!.data.object as Stripe.Invoice;
    expect(paid).toMatchObject({ billing_reason: "subscription_cycle", amount_paid: 3000 });

    received = [];
    fake.failNextCharge("insufficient_funds");
    await fake.advanceSubscription(sub.id);
    await fake.settled();
    expect(received.map((e) => e.type)).toEqual([
      "customer.subscription.updated",
      "invoice.payment_failed",
      "customer.subscription.updated",
    ]);
    const failed = received[1]!.data.object as Stripe.Invoice;
    expect(failed).toMatchObject({ status: "open", amount_paid: 0, attempt_count: 1 });
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe("past_due");
    const retried = await stripe.invoices.pay(failed.id!);
    expect(retried.status).toBe("paid");
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe("active");
    const invoices = await stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data.map((i) => i.status)).toEqual(["paid", "paid", "paid"]);
  });

  it("upgrades with always_invoice proration charged at once, downgrades pending to renewal", async () => {
    const sub = await paidSubscription();
    const item = sub.items.data[0]!;
    const bigger = await stripe.prices.create({
      currency: "usd",
      unit_amount: 9000,
      recurring: { interval: "month" },
      product_data: { name: "Scale" },
    });
    const { current_period_start: start, current_period_end: end } = item;
    const at = start + Math.floor((end - start) / 2);
    const preview = await stripe.invoices.createPreview({
      customer: sub.customer as string,
      subscription: sub.id,
      subscription_details: {
        items: [{ id: item.id, price: bigger.id }],
        proration_behavior: "always_invoice",
        proration_date: at,
      },
    });
    expect(preview.status).toBe("draft");
    expect((await stripe.subscriptions.retrieve(sub.id)).items.data[0]!.price.id).toBe(
      item.price.id,
    );
    const up = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: bigger.id }],
      proration_behavior: "always_invoice",
      proration_date: at,
    });
    expect(up.items.data[0]!.price.id).toBe(bigger.id);
    const frac = (end - at) / (end - start);
    const expected = Math.round(9000 * frac) - Math.round(3000 * frac);
    const inv = await stripe.invoices.retrieve(up.latest_invoice as string);
    expect(inv).toMatchObject({ billing_reason: "subscription_update", amount_paid: expected });
    expect(preview.total).toBe(expected);
    expect(inv.lines.data.map((l) => l.amount)).toEqual([
      -Math.round(3000 * frac),
      Math.round(9000 * frac),
    ]);

    const none = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: item.price.id }],
      proration_behavior: "none",
    });
    expect(none.latest_invoice).toBe(inv.id);
    await fake.advanceSubscription(sub.id);
    const renewal = await stripe.invoices.retrieve(
      (await stripe.subscriptions.retrieve(sub.id)).latest_invoice as string,
    );
    expect(renewal.amount_paid).toBe(3000);
  });

  it("cancel at period end, resume, cancel again, then the period ends", async () => {
    const sub = await paidSubscription();
    const c = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(c).toMatchObject({ cancel_at_period_end: true, status: "active" });
    expect(c.cancel_at).toBe(sub.items.data[0]!.current_period_end);
    const resumed = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: false });
    expect(resumed).toMatchObject({ cancel_at_period_end: false, cancel_at: null });
    await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    await fake.advanceSubscription(sub.id);
    await fake.settled();
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe("canceled");
    expect(received.map((e) => e.type)).toEqual([
      "customer.subscription.updated",
      "customer.subscription.updated",
      "customer.subscription.updated",
      "customer.subscription.deleted",
    ]);
    expect(received[1]!.data.previous_attributes).toMatchObject({ cancel_at_period_end: true });
  });

  it("a trial starts with a zero invoice and the first renewal charges the price", async () => {
    const customer = await stripe.customers.create({ email: "t@shop.example" });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      success_url: "https://app.example/done",
      line_items: [
        {
          quantity: 1,
          price_data: {
            currency: "usd",
            unit_amount: 4900,
            recurring: { interval: "year" },
            product_data: { name: "Growth yearly" },
          },
        },
      ],
      subscription_data: { trial_period_days: 14 },
    });
    await press(session.url!, "pay");
    const subId = (await stripe.checkout.sessions.retrieve(session.id)).subscription as string;
    const sub = await stripe.subscriptions.retrieve(subId);
    expect(sub.status).toBe("trialing");
    expect(sub.trial_end! - sub.trial_start!).toBe(14 * 24 * 3600);
    expect((await stripe.invoices.retrieve(sub.latest_invoice as string)).amount_paid).toBe(0);
    await fake.advanceSubscription(subId);
    const after = await stripe.subscriptions.retrieve(subId);
    expect(after.status).toBe("active");
    expect(after.items.data[0]!.current_period_start).toBe(sub.trial_end);
    const paid = await stripe.invoices.retrieve(after.latest_invoice as string);
    expect(paid).toMatchObject({ status: "paid", amount_paid: 4900 });
  });

  it("cancels at once and opens a billing portal session", async () => {
    const sub = await paidSubscription();
    const gone = await stripe.subscriptions.cancel(sub.id);
    expect(gone.status).toBe("canceled");
    expect((await sdkError(stripe.subscriptions.cancel(sub.id))).statusCode).toBe(400);
    const portal = await stripe.billingPortal.sessions.create({
      customer: sub.customer as string,
      return_url: "https://app.example/billing",
    });
    expect(portal.url).toMatch(new RegExp(`^${fake.url}/pay/portal/bps_`));
    expect(await (await fetch(portal.url)).text()).toContain("https://app.example/billing");
  });
});

describe("Stripe fake: registry", () => {
  it("is registered at the end under STRIPE_API_BASE_URL, posting to STRIPE_FAKE_WEBHOOK_URL", async () => {
    expect(Object.keys(fakeFactories).slice(-2)).toEqual(["stripe", "razorpay"]);
    expect(fakeFactories.stripe?.envVar).toBe("STRIPE_API_BASE_URL");
    process.env.STRIPE_FAKE_WEBHOOK_URL = `${receiver.url}/webhooks/stripe`;
    const started = await startFakes(["stripe"]);
    delete process.env.STRIPE_FAKE_WEBHOOK_URL;
    try {
      const base = new URL(fakeEnv(started).STRIPE_API_BASE_URL!);
      const client = new Stripe(FAKE_STRIPE_SECRET_KEY, {
        host: base.hostname,
        port: Number(base.port),
        protocol: "http",
        maxNetworkRetries: 0,
      });
      expect((await client.customers.create({ email: "r@shop.example" })).id).toMatch(/^cus_/);
      const registered = started[0]!.fake as StripeFake;
      expect(
        (await registered.sendEvent("invoice.paid", { id: "in_9", object: "invoice" }))?.status,
      ).toBe(200);
      expect(received.map((e) => e.type)).toEqual(["invoice.paid"]);
    } finally {
      await stopFakes(started);
    }
  });
});
