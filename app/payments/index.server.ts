import { type Env, getEnv } from "~/lib/env.server";
import { createRazorpayProvider } from "./razorpay/provider.server";
import { createSandboxProvider, type SandboxPaymentProvider } from "./sandbox/provider.server";
import { createStripeProvider } from "./stripe/provider.server";
import type { PaymentCurrency, PaymentProvider, ProviderName } from "./types";

/**
 * Which provider takes a currency's money: Razorpay for INR (UPI AutoPay, e-mandates, Indian
 * cards), Stripe for USD. A provider whose keys are not set is replaced by the sandbox, so the
 * whole flow can be tried without an account and without money moving.
 */
export const PROVIDER_FOR_CURRENCY: Record<PaymentCurrency, Exclude<ProviderName, "sandbox">> = {
  INR: "razorpay",
  USD: "stripe",
};

type PaymentEnv = Pick<
  Env,
  | "BASE_URL"
  | "PROVIDER_TIMEOUT_MS"
  | "STRIPE_API_BASE_URL"
  | "STRIPE_SECRET_KEY"
  | "STRIPE_WEBHOOK_SECRET"
  | "RAZORPAY_API_BASE_URL"
  | "RAZORPAY_KEY_ID"
  | "RAZORPAY_KEY_SECRET"
  | "RAZORPAY_WEBHOOK_SECRET"
>;

// One sandbox per base URL, for the life of the process: its subscriptions live in it.
const sandboxes = new Map<string, SandboxPaymentProvider>();

export function sandboxPaymentProvider(env: PaymentEnv = getEnv()): SandboxPaymentProvider {
  let sandbox = sandboxes.get(env.BASE_URL);
  if (!sandbox) {
    sandbox = createSandboxProvider({ baseUrl: env.BASE_URL });
    sandboxes.set(env.BASE_URL, sandbox);
  }
  return sandbox;
}

/** The named provider if its keys are set, else the sandbox (webhook routes name theirs). */
export function paymentProviderNamed(
  name: ProviderName,
  env: PaymentEnv = getEnv(),
): PaymentProvider {
  if (name === "stripe" && env.STRIPE_SECRET_KEY && env.STRIPE_WEBHOOK_SECRET) {
    return createStripeProvider({
      secretKey: env.STRIPE_SECRET_KEY,
      webhookSecret: env.STRIPE_WEBHOOK_SECRET,
      apiBaseUrl: env.STRIPE_API_BASE_URL,
      timeoutMs: env.PROVIDER_TIMEOUT_MS,
    });
  }
  if (
    name === "razorpay" &&
    env.RAZORPAY_KEY_ID &&
    env.RAZORPAY_KEY_SECRET &&
    env.RAZORPAY_WEBHOOK_SECRET
  ) {
    return createRazorpayProvider({
      keyId: env.RAZORPAY_KEY_ID,
      keySecret: env.RAZORPAY_KEY_SECRET,
      webhookSecret: env.RAZORPAY_WEBHOOK_SECRET,
      apiBaseUrl: env.RAZORPAY_API_BASE_URL,
      timeoutMs: env.PROVIDER_TIMEOUT_MS,
    });
  }
  return sandboxPaymentProvider(env);
}

export function paymentProviderFor(
  currency: PaymentCurrency,
  env: PaymentEnv = getEnv(),
): PaymentProvider {
  return paymentProviderNamed(PROVIDER_FOR_CURRENCY[currency], env);
}
