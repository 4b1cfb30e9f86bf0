import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFakeServer } from "../../../tests/fakes/base";
import {
  createRazorpayFake,
  FAKE_RAZORPAY_KEY_ID,
  FAKE_RAZORPAY_KEY_SECRET,
  FAKE_RAZORPAY_WEBHOOK_SECRET,
  razorpayError as fakeError,
  razorpayFault,
  type RazorpayFake,
} from "../../../tests/fakes/razorpay";
import { rejected } from "../../../tests/support/errors";
import { type PaymentProvider, PaymentProviderError } from "../types";
import { createRazorpayProvider } from "./provider.server";

let fake: RazorpayFake;
let razorpay: PaymentProvider;

function provider(
  options: { timeoutMs?: number; webhookSecret?: string; keySecret?: string } = {},
) {
  return createRazorpayProvider({
    keyId: FAKE_RAZORPAY_KEY_ID,
    keySecret: options.keySecret ?? FAKE_RAZORPAY_KEY_SECRET,
    webhookSecret: options.webhookSecret ?? FAKE_RAZORPAY_WEBHOOK_SECRET,
    apiBaseUrl: fake.url,
    timeoutMs: options.timeoutMs ?? 5_000,
  });
}

beforeEach(async () => {
  fake = createRazorpayFake();
  await fake.start();
  razorpay = provider();
});

afterEach(async () => {
  await fake.stop();
});

const PAYER = { email: "asha@shop.example", contact: "+919876543210" };

/** Authorises the mandate on the fake's hosted page as the payer we created. */
async function authorise(url: string): Promise<Response> {
  const page = await (await fetch(url)).text();
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
  expect(action).toBeDefined();
  return fetch(new URL(action!, url), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ name: "Asha", ...PAYER, action: "authorise" }),
    redirect: "manual",
  });
}

async function started(trialEnd?: Date) {
  const { customerRef } = await razorpay.ensureCustomer({
    workspaceId: "ws_shop",
    name: "Asha",
    email: PAYER.email,
    phone: PAYER.contact,
  });
  const start = await razorpay.startSubscription({
    customerRef,
    planRef: "growth:month",
    planName: "Growth (monthly)",
    price: { amount: 5_999_00, currency: "INR" },
    interval: "month",
    trialEnd,
    successUrl: "https://app.example/billing/done",
    cancelUrl: "https://app.example/billing",
    idempotencyKey: "start-1",
  });
  return { customerRef, start };
}

async function failure(p: Promise<unknown>): Promise<PaymentProviderError> {
  const err = await rejected(p);
  expect(err).toBeInstanceOf(PaymentProviderError);
  return err as PaymentProviderError;
}

/** The captured payment of the subscription's first charge. */
function firstPayment(): string {
  const charged = fake.events.find((e) => e.event.event === "subscription.charged")!;
  const payload = charged.event.payload as { payment: { entity: { id: string } } };
  return payload.payment.entity.id;
}

describe("Razorpay provider: subscriptions", () => {
  it("creates the customer (again: the same one), authorises the mandate, reads it back", async () => {
    const { customerRef, start } = await started();
    expect(customerRef).toMatch(/^cust_/);
    const again = await razorpay.ensureCustomer({
      workspaceId: "ws_shop",
      name: "Asha",
      email: PAYER.email,
      phone: PAYER.contact,
    });
    expect(again.customerRef).toBe(customerRef);
    expect(start.hostedUrl).toBe(`${fake.url}/pay/subscription/${start.ref}`);
    expect(await razorpay.fetchSubscription(start.ref)).toMatchObject({
      ref: start.ref,
      status: "incomplete",
      currentPeriodStart: null,
      planRef: "growth:month",
      customerRef,
    });

    expect((await authorise(start.hostedUrl)).status).toBe(200);
    const state = await razorpay.fetchSubscription(start.ref);
    expect(state).toMatchObject({
      ref: start.ref,
      status: "active",
      cancelAtPeriodEnd: false,
      planRef: "growth:month",
      customerRef,
    });
    expect(state.currentPeriodEnd!.getTime()).toBeGreaterThan(state.currentPeriodStart!.getTime());
    const sub = fake.get(start.ref)!;
    expect(fake.get(String(sub.plan_id))).toMatchObject({
      period: "monthly",
      item: { amount: 5_999_00, currency: "INR" },
    });
  });

  it("a trial is an authorised mandate charged first at the trial's end", async () => {
    const trialEnd = new Date(Date.now() + 14 * 86_400_000);
    const { start } = await started(trialEnd);
    await authorise(start.hostedUrl);
    const state = await razorpay.fetchSubscription(start.ref);
    expect(state.status).toBe("trialing");
    expect(state.currentPeriodEnd!.getTime()).toBe(Math.floor(trialEnd.getTime() / 1000) * 1000);
    expect(fake.events.map((e) => e.event.event)).toEqual(["subscription.authenticated"]);
  });

  it("renewal failures read as past_due; cancel at period end holds until the cycle ends", async () => {
    const { start } = await started();
    await authorise(start.hostedUrl);
    fake.failNextCharge();
    await fake.advanceSubscription(start.ref);
    expect((await razorpay.fetchSubscription(start.ref)).status).toBe("past_due");
    await fake.advanceSubscription(start.ref);
    expect((await razorpay.fetchSubscription(start.ref)).status).toBe("active");

    const pending = await razorpay.cancelAtPeriodEnd(start.ref);
    expect(pending).toMatchObject({ status: "active", cancelAtPeriodEnd: true });
    await fake.advanceSubscription(start.ref);
    expect((await razorpay.fetchSubscription(start.ref)).status).toBe("canceled");
    expect(await failure(razorpay.resume(start.ref))).toMatchObject({
      retryable: false,
      code: "unsupported",
    });
  });

  it("changes the plan with Razorpay's update: a new plan, now or at the cycle's end", async () => {
    const { start } = await started();
    await authorise(start.hostedUrl);
    // The fake has no PATCH /v1/subscriptions/:id yet: only the request is checked here.
    const answer = await rejected(
      razorpay.changeSubscription({
        ref: start.ref,
        planRef: "business:month",
        planName: "Business (monthly)",
        price: { amount: 14_999_00, currency: "INR" },
        interval: "month",
        effective: "renewal",
        idempotencyKey: "change-1",
      }),
    );
    expect(answer).toMatchObject({ retryable: false, status: 404 });
    const sent = fake.lastRequest("PATCH", `/v1/subscriptions/${start.ref}`)!;
    const body = sent.json as { plan_id: string; schedule_change_at: string };
    expect(body.schedule_change_at).toBe("cycle_end");
    expect(fake.get(body.plan_id)).toMatchObject({
      item: { amount: 14_999_00, currency: "INR" },
      notes: { plan: "business:month" },
    });
  });

  it("cancels now; a second cancel is refused and not retryable", async () => {
    const { start } = await started();
    await authorise(start.hostedUrl);
    expect((await razorpay.cancelNow(start.ref)).status).toBe("canceled");
    const again = await failure(razorpay.cancelNow(start.ref));
    expect(again).toMatchObject({ retryable: false, status: 400, code: "BAD_REQUEST_ERROR" });
  });

  it("refunds part of the first charge, then the rest; more is refused", async () => {
    const { start } = await started();
    await authorise(start.hostedUrl);
    const paymentRef = firstPayment();
    const part = await razorpay.refund(paymentRef, 1_000_00, "refund-1");
    expect(part).toMatchObject({ amount: 1_000_00, status: "succeeded" });
    expect(part.ref).toMatch(/^rfnd_/);
    expect(fake.get(part.ref)).toMatchObject({ notes: { idempotency_key: "refund-1" } });
    expect((await razorpay.refund(paymentRef, 4_999_00, "refund-2")).amount).toBe(4_999_00);
    expect(await failure(razorpay.refund(paymentRef, 100, "refund-3"))).toMatchObject({
      retryable: false,
      status: 400,
    });
  });
});

describe("Razorpay provider: errors", () => {
  const facts = { workspaceId: "ws_1", name: "A", email: "a@b.example" };

  it("429, 500 and a timeout are retryable; the next call works", async () => {
    fake.injectFault(razorpayFault(429, 3), { match: { path: "/v1/customers" } });
    expect(await failure(razorpay.ensureCustomer(facts))).toMatchObject({
      retryable: true,
      status: 429,
      provider: "razorpay",
    });
    fake.injectFault(razorpayFault(500));
    expect(await failure(razorpay.ensureCustomer(facts))).toMatchObject({
      retryable: true,
      status: 500,
      code: "SERVER_ERROR",
    });
    fake.injectFault({ kind: "hang" });
    const slow = await failure(provider({ timeoutMs: 200 }).ensureCustomer(facts));
    expect(slow).toMatchObject({ retryable: true, status: undefined });
    expect((await razorpay.ensureCustomer(facts)).customerRef).toMatch(/^cust_/);
  });

  it("a declined payment, wrong keys and an unknown id are not retryable", async () => {
    const decline = fakeError(
      400,
      "Your payment was declined by the bank.",
      "",
      "BAD_REQUEST_ERROR",
    );
    const body = decline.json as { error: Record<string, unknown> };
    body.error.reason = "payment_declined";
    fake.injectFault({ kind: "status", status: 400, json: body });
    expect(await failure(razorpay.ensureCustomer(facts))).toMatchObject({
      retryable: false,
      status: 400,
      declineCode: "payment_declined",
    });
    expect(
      await failure(provider({ keySecret: "wrong" }).fetchSubscription("sub_x")),
    ).toMatchObject({ retryable: false, status: 401 });
    expect(await failure(razorpay.fetchSubscription("sub_nope"))).toMatchObject({
      retryable: false,
      status: 400,
    });
  });
});

describe("Razorpay provider: webhooks", () => {
  const verify = (body: string, headers: Record<string, string>, p = razorpay) =>
    p.verifyWebhook(Buffer.from(body, "utf8"), headers);

  it("accepts the fake's signed event with its event id, type and object", async () => {
    const signed = fake.signedEvent("subscription.charged", {
      subscription: { id: "sub_1", entity: "subscription" },
      payment: { id: "pay_1", entity: "payment" },
    });
    expect(await verify(signed.body, signed.headers)).toEqual({
      ok: true,
      eventId: signed.eventId,
      type: "subscription.charged",
      objectRef: "sub_1",
    });
  });

  it("verifies what the fake posts over HTTP, on the raw bytes", async () => {
    const verdicts: unknown[] = [];
    const receiver = createFakeServer({
      name: "receiver",
      routes: [
        {
          method: "POST",
          path: "/webhooks/razorpay",
          handler(req, res) {
            verdicts.push(razorpay.verifyWebhook(req.rawBody, req.headers));
            return res.json({ ok: true });
          },
        },
      ],
    });
    await receiver.start();
    try {
      fake.setWebhook(`${receiver.url}/webhooks/razorpay`, FAKE_RAZORPAY_WEBHOOK_SECRET);
      const { start } = await started();
      await authorise(start.hostedUrl);
      await fake.settled();
      const types = (await Promise.all(verdicts)).map((v) => (v as { type: string }).type);
      expect(types).toContain("subscription.activated");
      expect(await Promise.all(verdicts)).toEqual(
        expect.arrayContaining([expect.objectContaining({ ok: true, objectRef: start.ref })]),
      );
    } finally {
      await receiver.stop();
    }
  });

  it("refuses a wrong secret, the checkout key secret, a re-serialised body and missing headers", async () => {
    const entities = { payment: { id: "pay_1", entity: "payment" } };
    const wrong = fake.signedEvent("payment.captured", entities, { secret: "other" });
    expect(await verify(wrong.body, wrong.headers)).toEqual({
      ok: false,
      status: 401,
      reason: "signature does not match",
    });
    const checkout = fake.signedEvent("payment.captured", entities, {
      secret: FAKE_RAZORPAY_KEY_SECRET,
    });
    expect(await verify(checkout.body, checkout.headers)).toMatchObject({ ok: false, status: 401 });
    const good = fake.signedEvent("payment.captured", entities);
    const reserialised = JSON.stringify(JSON.parse(good.body), null, 2);
    expect(await verify(reserialised, good.headers)).toMatchObject({ ok: false, status: 401 });
    const { "x-razorpay-signature": _sig, ...unsigned } = good.headers;
    expect(await verify(good.body, unsigned)).toMatchObject({ ok: false, status: 400 });
    const { "x-razorpay-event-id": _id, ...noId } = good.headers;
    expect(await verify(good.body, noId)).toMatchObject({ ok: false, status: 400 });
    expect(
      await verify(good.body, { ...good.headers, "x-razorpay-signature": "zz" }),
    ).toMatchObject({ ok: false, status: 401 });
    expect(await verify(good.body, good.headers)).toMatchObject({ ok: true });
  });
});
