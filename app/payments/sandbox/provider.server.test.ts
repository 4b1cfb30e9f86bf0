import { describe, expect, it } from "vitest";
import { rejected } from "../../../tests/support/errors";
import { PaymentProviderError } from "../types";
import { createSandboxProvider } from "./provider.server";

const DAY = 86_400_000;

function sandbox(start = new Date("2026-12-01T00:00:00Z")) {
  let now = start;
  const provider = createSandboxProvider({ baseUrl: "http://localhost:3000", now: () => now });
  return { provider, travel: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

async function started(p: ReturnType<typeof sandbox>["provider"], trialEnd?: Date) {
  const { customerRef } = await p.ensureCustomer({
    workspaceId: "ws_shop",
    name: "Shop",
    email: "owner@shop.example",
  });
  const start = await p.startSubscription({
    customerRef,
    planRef: "growth:month",
    planName: "Growth (monthly)",
    price: { amount: 5_999_00, currency: "INR" },
    interval: "month",
    trialEnd,
    successUrl: "http://localhost:3000/done",
    cancelUrl: "http://localhost:3000/billing",
    idempotencyKey: "start-1",
  });
  return { customerRef, start };
}

describe("sandbox payment provider", () => {
  it("runs the whole flow without keys: checkout page of ours, pay, change, cancel, resume", async () => {
    const { provider } = sandbox();
    const { customerRef, start } = await started(provider);
    expect(
      (await provider.ensureCustomer({ workspaceId: "ws_shop", name: "S", email: "x@y.example" }))
        .customerRef,
    ).toBe(customerRef);
    expect(start.hostedUrl).toBe(
      `http://localhost:3000/billing/sandbox/checkout/${encodeURIComponent(start.ref)}`,
    );
    expect((await started(provider)).start.ref).toBe(start.ref);
    expect((await provider.fetchSubscription(start.ref)).status).toBe("incomplete");

    const { state, paymentRef } = provider.completeCheckout(start.ref);
    expect(state).toMatchObject({
      status: "active",
      planRef: "growth:month",
      customerRef,
      currentPeriodStart: new Date("2026-12-01T00:00:00Z"),
      currentPeriodEnd: new Date("2027-01-01T00:00:00Z"),
    });
    expect(paymentRef).toMatch(/^sandbox_pay_/);

    const up = await provider.changeSubscription({
      ref: start.ref,
      planRef: "business:month",
      planName: "Business (monthly)",
      price: { amount: 14_999_00, currency: "INR" },
      interval: "month",
      effective: "now",
      idempotencyKey: "c1",
    });
    expect(up.planRef).toBe("business:month");
    expect((await provider.cancelAtPeriodEnd(start.ref)).cancelAtPeriodEnd).toBe(true);
    expect((await provider.resume(start.ref)).cancelAtPeriodEnd).toBe(false);
    expect((await provider.cancelNow(start.ref)).status).toBe("canceled");
    const again = await rejected(provider.cancelNow(start.ref));
    expect(again).toBeInstanceOf(PaymentProviderError);
    expect(again).toMatchObject({ retryable: false, provider: "sandbox" });
  });

  it("a trial is trialing until its end and charges nothing", async () => {
    const { provider, travel } = sandbox();
    const trialEnd = new Date("2026-12-15T00:00:00Z");
    const { start } = await started(provider, trialEnd);
    const { state, paymentRef } = provider.completeCheckout(start.ref);
    expect(state).toMatchObject({ status: "trialing", currentPeriodEnd: trialEnd });
    expect(paymentRef).toBeNull();
    travel(15 * DAY);
    expect((await provider.fetchSubscription(start.ref)).status).toBe("active");
  });

  it("refunds once per key, never more than was paid; sends no webhooks", async () => {
    const { provider } = sandbox();
    const { start } = await started(provider);
    const { paymentRef } = provider.completeCheckout(start.ref);
    const r = await provider.refund(paymentRef!, 5_000_00, "r1");
    expect(r).toMatchObject({ amount: 5_000_00, status: "succeeded" });
    expect((await provider.refund(paymentRef!, 5_000_00, "r1")).ref).toBe(r.ref);
    expect(await rejected(provider.refund(paymentRef!, 1_000_00, "r2"))).toMatchObject({
      retryable: false,
      status: 400,
    });
    expect(await provider.verifyWebhook(Buffer.from("{}"), {})).toMatchObject({
      ok: false,
      status: 400,
    });
    expect(await rejected(provider.fetchSubscription("nope"))).toMatchObject({ status: 404 });
  });
});
