import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createRazorpayFake,
  FAKE_RAZORPAY_KEY_ID,
  FAKE_RAZORPAY_KEY_SECRET,
  FAKE_RAZORPAY_WEBHOOK_SECRET,
  type RazorpayFake,
} from "../../tests/fakes/razorpay";
import {
  createStripeFake,
  FAKE_STRIPE_SECRET_KEY,
  FAKE_STRIPE_WEBHOOK_SECRET,
  type StripeFake,
} from "../../tests/fakes/stripe";
import { thrown } from "../../tests/support/errors";
import { EnvError, parseEnv } from "~/lib/env.server";
import { paymentProviderFor, paymentProviderNamed } from "./index.server";

let stripe: StripeFake;
let razorpay: RazorpayFake;

beforeEach(async () => {
  stripe = createStripeFake();
  razorpay = createRazorpayFake();
  await Promise.all([stripe.start(), razorpay.start()]);
});

afterEach(async () => {
  await Promise.all([stripe.stop(), razorpay.stop()]);
});

const keyed = () =>
  parseEnv({
    STRIPE_API_BASE_URL: stripe.url,
    STRIPE_SECRET_KEY: FAKE_STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: FAKE_STRIPE_WEBHOOK_SECRET,
    RAZORPAY_API_BASE_URL: razorpay.url,
    RAZORPAY_KEY_ID: FAKE_RAZORPAY_KEY_ID,
    RAZORPAY_KEY_SECRET: FAKE_RAZORPAY_KEY_SECRET,
    RAZORPAY_WEBHOOK_SECRET: FAKE_RAZORPAY_WEBHOOK_SECRET,
  });

const facts = { workspaceId: "ws_1", name: "Shop", email: "o@shop.example" };

describe("paymentProviderFor", () => {
  it("takes INR through Razorpay and USD through Stripe, at their configured base URLs", async () => {
    const env = keyed();
    const inr = paymentProviderFor("INR", env);
    const usd = paymentProviderFor("USD", env);
    expect([inr.name, usd.name]).toEqual(["razorpay", "stripe"]);
    expect((await inr.ensureCustomer(facts)).customerRef).toMatch(/^cust_/);
    expect((await usd.ensureCustomer(facts)).customerRef).toMatch(/^cus_/);
    expect(razorpay.lastRequest("POST", "/v1/customers")).toBeDefined();
    expect(stripe.lastRequest("POST", "/v1/customers")).toBeDefined();
    expect(paymentProviderNamed("stripe", env).name).toBe("stripe");
  });

  it("falls back to one sandbox per process for a provider without keys", () => {
    const env = parseEnv({
      RAZORPAY_KEY_ID: FAKE_RAZORPAY_KEY_ID,
      RAZORPAY_KEY_SECRET: FAKE_RAZORPAY_KEY_SECRET,
      RAZORPAY_WEBHOOK_SECRET: FAKE_RAZORPAY_WEBHOOK_SECRET,
    });
    expect(paymentProviderFor("INR", env).name).toBe("razorpay");
    const usd = paymentProviderFor("USD", env);
    expect(usd.name).toBe("sandbox");
    expect(paymentProviderFor("USD", env)).toBe(usd);
    expect(paymentProviderFor("INR", parseEnv({})).name).toBe("sandbox");
  });

  it("refuses half a provider's keys at boot, naming the missing one", () => {
    const err = thrown(() => parseEnv({ STRIPE_SECRET_KEY: FAKE_STRIPE_SECRET_KEY }));
    expect(err).toBeInstanceOf(EnvError);
    expect(err.message).toBe(
      "Invalid environment variable STRIPE_WEBHOOK_SECRET: must be set together with STRIPE_SECRET_KEY (both, or none)",
    );
    const rp = thrown(() =>
      parseEnv({ RAZORPAY_KEY_ID: FAKE_RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET: "s" }),
    );
    expect(rp.message).toContain("RAZORPAY_WEBHOOK_SECRET: must be set together with");
  });
});
