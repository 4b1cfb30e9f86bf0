import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFakeServer } from "../../../tests/fakes/base";
import { rejected } from "../../../tests/support/errors";
import {
  createStripeFake,
  FAKE_STRIPE_SECRET_KEY,
  FAKE_STRIPE_WEBHOOK_SECRET,
  stripeFault,
  type StripeFake,
} from "../../../tests/fakes/stripe";
import { type PaymentProvider, PaymentProviderError } from "../types";
import { createStripeProvider } from "./provider.server";

let fake: StripeFake;
let stripe: PaymentProvider;

function provider(options: { timeoutMs?: number; webhookSecret?: string } = {}) {
  return createStripeProvider({
    secretKey: FAKE_STRIPE_SECRET_KEY,
    webhookSecret: options.webhookSecret ?? FAKE_STRIPE_WEBHOOK_SECRET,
    apiBaseUrl: fake.url,
    timeoutMs: options.timeoutMs ?? 5_000,
  });
}

beforeEach(async () => {
  fake = createStripeFake();
  await fake.start();
  stripe = provider();
});

afterEach(async () => {
  await fake.stop();
});

/** Presses Pay on the fake's hosted Checkout page, as a browser would. */
async function pay(url: string): Promise<Response> {
  const page = await (await fetch(url)).text();
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
  expect(action).toBeDefined();
  return fetch(new URL(action!, url), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ action: "pay" }),
    redirect: "manual",
  });
}

async function started(options: { trialEnd?: Date; amount?: number } = {}) {
  const { customerRef } = await stripe.ensureCustomer({
    workspaceId: "ws_shop",
    name: "Shop",
    email: "owner@shop.example",
  });
  const start = await stripe.startSubscription({
    customerRef,
    planRef: "starter:month",
    planName: "Starter (monthly)",
    price: { amount: options.amount ?? 2900, currency: "USD" },
    interval: "month",
    trialEnd: options.trialEnd,
    successUrl: "https://app.example/billing/done",
    cancelUrl: "https://app.example/billing",
    idempotencyKey: `start-${Math.random()}`,
  });
  return { customerRef, start };
}

async function paid() {
  const { customerRef, start } = await started();
  expect((await pay(start.hostedUrl)).status).toBe(303);
  const state = await stripe.fetchSubscription(start.ref);
  return { customerRef, state };
}

async function failure(p: Promise<unknown>): Promise<PaymentProviderError> {
  const err = await rejected(p);
  expect(err).toBeInstanceOf(PaymentProviderError);
  return err as PaymentProviderError;
}

describe("Stripe provider: subscriptions", () => {
  it("creates the customer once, starts a checkout, and reads the paid subscription back", async () => {
    const { customerRef, start } = await started();
    expect(customerRef).toMatch(/^cus_/);
    expect(fake.get(customerRef)).toMatchObject({ metadata: { workspace: "ws_shop" } });
    const again = await stripe.ensureCustomer({
      workspaceId: "ws_shop",
      name: "Shop Ltd",
      email: "owner@shop.example",
      existingRef: customerRef,
    });
    expect(again.customerRef).toBe(customerRef);
    expect(fake.get(customerRef)).toMatchObject({ name: "Shop Ltd" });

    expect(start.hostedUrl).toBe(`${fake.url}/pay/checkout/${start.ref}`);
    const before = await stripe.fetchSubscription(start.ref);
    expect(before).toMatchObject({ ref: start.ref, status: "incomplete", currentPeriodEnd: null });

    expect((await pay(start.hostedUrl)).headers.get("location")).toBe(
      "https://app.example/billing/done",
    );
    const state = await stripe.fetchSubscription(start.ref);
    expect(state).toMatchObject({
      status: "active",
      cancelAtPeriodEnd: false,
      planRef: "starter:month",
      customerRef,
    });
    expect(state.ref).toMatch(/^sub_/);
    expect(state.currentPeriodEnd!.getTime()).toBeGreaterThan(state.currentPeriodStart!.getTime());
    expect(await stripe.fetchSubscription(state.ref)).toEqual(state);
    const sub = fake.get(state.ref)!;
    const item = (sub.items as { data: { price: { unit_amount: number } }[] }).data[0]!;
    expect(item.price.unit_amount).toBe(2900);
  });

  it("a card declined on the hosted page leaves the checkout incomplete", async () => {
    const { start } = await started();
    fake.failNextCharge("insufficient_funds");
    expect((await pay(start.hostedUrl)).status).toBe(402);
    expect(await stripe.fetchSubscription(start.ref)).toMatchObject({
      ref: start.ref,
      status: "incomplete",
      planRef: null,
    });
  });

  it("a start retried with the same idempotency key makes one checkout", async () => {
    const { customerRef } = await started();
    const input = {
      customerRef,
      planRef: "growth:year",
      planName: "Growth (yearly)",
      price: { amount: 79000, currency: "USD" as const },
      interval: "year" as const,
      successUrl: "https://app.example/ok",
      cancelUrl: "https://app.example/no",
      idempotencyKey: "start-growth-1",
    };
    const a = await stripe.startSubscription(input);
    const b = await stripe.startSubscription(input);
    expect(b.ref).toBe(a.ref);
  });

  it("a trial starts trialing until its end, with nothing charged", async () => {
    const trialEnd = new Date(Date.now() + 14 * 86_400_000);
    const { start } = await started({ trialEnd });
    await pay(start.hostedUrl);
    const state = await stripe.fetchSubscription(start.ref);
    expect(state.status).toBe("trialing");
    expect(Math.abs(state.currentPeriodEnd!.getTime() - trialEnd.getTime())).toBeLessThan(
      86_400_000,
    );
  });

  it("upgrades now (prorated invoice paid), downgrades at renewal, cancels, resumes, ends", async () => {
    const { state } = await paid();
    const at = new Date(
      (state.currentPeriodStart!.getTime() + state.currentPeriodEnd!.getTime()) / 2,
    );
    const up = await stripe.changeSubscription({
      ref: state.ref,
      planRef: "growth:month",
      planName: "Growth (monthly)",
      price: { amount: 7900, currency: "USD" },
      interval: "month",
      effective: "now",
      at,
      idempotencyKey: "change-1",
    });
    expect(up).toMatchObject({ planRef: "growth:month", status: "active" });
    const sub = fake.get(state.ref)!;
    const invoice = fake.get(String(sub.latest_invoice))!;
    expect(invoice).toMatchObject({ billing_reason: "subscription_update", status: "paid" });
    // Half a period of the difference (5000), within a cent of rounding per line.
    expect(Math.abs((invoice.amount_paid as number) - 2500)).toBeLessThanOrEqual(1);

    const down = await stripe.changeSubscription({
      ref: state.ref,
      planRef: "starter:month",
      planName: "Starter (monthly)",
      price: { amount: 2900, currency: "USD" },
      interval: "month",
      effective: "renewal",
      idempotencyKey: "change-2",
    });
    expect(down.planRef).toBe("starter:month");
    expect(fake.get(state.ref)!.latest_invoice).toBe(invoice.id);

    expect((await stripe.cancelAtPeriodEnd(state.ref)).cancelAtPeriodEnd).toBe(true);
    expect((await stripe.fetchSubscription(state.ref)).cancelAtPeriodEnd).toBe(true);
    expect((await stripe.resume(state.ref)).cancelAtPeriodEnd).toBe(false);
    const ended = await stripe.cancelNow(state.ref);
    expect(ended.status).toBe("canceled");
    const again = await failure(stripe.cancelNow(state.ref));
    expect(again).toMatchObject({ retryable: false, status: 400 });
  });

  it("refunds part of a payment, then the rest; more than is left is refused", async () => {
    const { state } = await paid();
    const invoice = fake.get(String(fake.get(state.ref)!.latest_invoice))!;
    const paymentRef = String(
      (invoice.payments as { data: { payment: { payment_intent: string } }[] } | undefined)?.data[0]
        ?.payment.payment_intent ?? invoice.payment_intent,
    );
    const part = await stripe.refund(paymentRef, 900, "refund-1");
    expect(part).toMatchObject({ amount: 900, status: "succeeded" });
    expect(part.ref).toMatch(/^re_/);
    expect((await stripe.refund(paymentRef, 900, "refund-1")).ref).toBe(part.ref);
    expect((await stripe.refund(paymentRef, 2000, "refund-2")).amount).toBe(2000);
    const over = await failure(stripe.refund(paymentRef, 100, "refund-3"));
    expect(over).toMatchObject({ retryable: false, status: 400 });
  });
});

describe("Stripe provider: errors", () => {
  it("429, 500 and a timeout are retryable; the next call works", async () => {
    fake.injectFault(stripeFault(429, 7), { match: { path: "/v1/customers" } });
    const facts = { workspaceId: "ws_1", name: "A", email: "a@b.example" };
    const rate = await failure(stripe.ensureCustomer(facts));
    expect(rate).toMatchObject({ retryable: true, status: 429, retryAfterMs: 7000 });
    fake.injectFault(stripeFault(500));
    expect(await failure(stripe.ensureCustomer(facts))).toMatchObject({
      retryable: true,
      status: 500,
    });
    fake.injectFault({ kind: "hang" });
    const slow = await failure(provider({ timeoutMs: 200 }).ensureCustomer(facts));
    expect(slow).toMatchObject({ retryable: true, status: undefined, provider: "stripe" });
    expect((await stripe.ensureCustomer(facts)).customerRef).toMatch(/^cus_/);
  });

  it("a declined card and a refused request are not retryable", async () => {
    const { state } = await paid();
    fake.injectFault({
      kind: "status",
      status: 402,
      json: {
        error: {
          type: "card_error",
          code: "card_declined",
          decline_code: "insufficient_funds",
          message: "Your card has insufficient funds.",
        },
      },
    });
    const declined = await failure(stripe.cancelAtPeriodEnd(state.ref));
    expect(declined).toMatchObject({
      retryable: false,
      status: 402,
      code: "card_declined",
      declineCode: "insufficient_funds",
    });
    const missing = await failure(stripe.fetchSubscription("sub_nope"));
    expect(missing).toMatchObject({ retryable: false, status: 404, code: "resource_missing" });
    const wrongKey = createStripeProvider({
      secretKey: "sk_test_wrong",
      webhookSecret: FAKE_STRIPE_WEBHOOK_SECRET,
      apiBaseUrl: fake.url,
      timeoutMs: 5_000,
    });
    expect(await failure(wrongKey.fetchSubscription(state.ref))).toMatchObject({
      retryable: false,
      status: 401,
    });
  });
});

describe("Stripe provider: webhooks", () => {
  const verify = (body: string | Buffer, signature?: string, p = stripe) =>
    p.verifyWebhook(Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8"), {
      "content-type": "application/json",
      ...(signature === undefined ? {} : { "stripe-signature": signature }),
    });

  it("accepts the fake's signed event, naming its id, type and object", async () => {
    const signed = fake.signedEvent("customer.subscription.updated", {
      id: "sub_123",
      object: "subscription",
    });
    expect(await verify(signed.body, signed.headers["stripe-signature"])).toEqual({
      ok: true,
      eventId: signed.event.id,
      type: "customer.subscription.updated",
      objectRef: "sub_123",
    });
  });

  it("accepts an event the fake delivers over HTTP, verified on the bytes received", async () => {
    let verdict: unknown;
    const receiver = createFakeServer({
      name: "receiver",
      routes: [
        {
          method: "POST",
          path: "/webhooks/stripe",
          handler(req, res) {
            verdict = stripe.verifyWebhook(req.rawBody, req.headers);
            return res.json({ received: true });
          },
        },
      ],
    });
    await receiver.start();
    try {
      fake.setWebhook(`${receiver.url}/webhooks/stripe`, FAKE_STRIPE_WEBHOOK_SECRET);
      await paid();
      await fake.settled();
      expect(await verdict).toMatchObject({ ok: true, type: "checkout.session.completed" });
    } finally {
      await receiver.stop();
    }
  });

  it("refuses a wrong secret, a re-serialised body, a stale timestamp and no signature", async () => {
    const object = { id: "in_1", object: "invoice" };
    const wrong = fake.signedEvent("invoice.paid", object, { secret: "whsec_other" });
    expect(await verify(wrong.body, wrong.headers["stripe-signature"])).toEqual({
      ok: false,
      status: 401,
      reason: "signature does not match",
    });
    const good = fake.signedEvent("invoice.paid", object);
    const reserialised = JSON.stringify(JSON.parse(good.body), null, 2);
    expect(await verify(reserialised, good.headers["stripe-signature"])).toMatchObject({
      ok: false,
      status: 401,
      reason: "signature does not match",
    });
    const stale = fake.signedEvent("invoice.paid", object, {
      timestamp: Math.floor(Date.now() / 1000) - 301,
    });
    expect(await verify(stale.body, stale.headers["stripe-signature"])).toEqual({
      ok: false,
      status: 401,
      reason: "signature timestamp is outside the 5-minute tolerance",
    });
    expect(await verify(good.body)).toMatchObject({ ok: false, status: 400 });
    // The same bytes under a provider with another secret are refused too.
    const other = provider({ webhookSecret: "whsec_other" });
    expect(await verify(good.body, good.headers["stripe-signature"], other)).toMatchObject({
      ok: false,
      status: 401,
    });
  });
});
