import { createAnthropicFake } from "./anthropic";
import type { FakeServer } from "./base";
import { createGoogleFake, FAKE_GOOGLE_DEMO_ACCOUNT } from "./google";
import { createRazorpayFake } from "./razorpay";
import { createSesFake } from "./ses";
import { createSmsFake, FAKE_SMS_DEMO_ACCOUNT } from "./sms";
import { createStripeFake } from "./stripe";
import { createTelegramFake, FAKE_TELEGRAM_DEMO_BOT } from "./telegram";
import { createWhatsAppFake, FAKE_WHATSAPP_DEMO_NUMBER } from "./whatsapp";

export interface FakeEntry {
  create: () => FakeServer;
  /** Env var the app reads for this provider's base URL (printed by `npm run fakes`). */
  envVar: string;
}

export interface StartedFake {
  name: string;
  envVar: string;
  url: string;
  fake: FakeServer;
}

// Each provider fake registers here, e.g. `meta: { create: createMetaFake, envVar: "META_GRAPH_URL" }`.
// Insertion order is the port order used by `npm run fakes`, so append new entries at the end.
export const fakeFactories: Record<string, FakeEntry> = {
  // The app must also use GOOGLE_CLIENT_ID/SECRET = FAKE_GOOGLE_CLIENT_ID/SECRET from ./google.
  google: {
    create: () => createGoogleFake({ accounts: [FAKE_GOOGLE_DEMO_ACCOUNT] }),
    envVar: "GOOGLE_OAUTH_BASE_URL",
  },
  ses: { create: createSesFake, envVar: "SES_ENDPOINT" },
  whatsapp: {
    create: () => createWhatsAppFake({ numbers: [FAKE_WHATSAPP_DEMO_NUMBER] }),
    envVar: "WHATSAPP_API_BASE_URL",
  },
  // The app must use FAKE_SMS_DEMO_ACCOUNT's sid and token in its SMS integration.
  sms: {
    create: () => createSmsFake({ accounts: [FAKE_SMS_DEMO_ACCOUNT], autoCallbacks: true }),
    envVar: "SMS_API_BASE_URL",
  },
  // The app must use FAKE_TELEGRAM_DEMO_BOT's token; http:// webhooks (a local BASE_URL) are fine.
  telegram: {
    create: () => createTelegramFake({ bots: [FAKE_TELEGRAM_DEMO_BOT], allowHttpWebhook: true }),
    envVar: "TELEGRAM_API_BASE_URL",
  },
  // The app must use FAKE_ANTHROPIC_API_KEY from ./anthropic as ANTHROPIC_API_KEY.
  anthropic: { create: createAnthropicFake, envVar: "ANTHROPIC_BASE_URL" },
  // The app must use FAKE_STRIPE_SECRET_KEY and FAKE_STRIPE_WEBHOOK_SECRET from ./stripe. Events
  // are posted to STRIPE_FAKE_WEBHOOK_URL when set (e.g. http://127.0.0.1:3210/webhooks/stripe).
  stripe: {
    create: () => createStripeFake({ webhookUrl: process.env.STRIPE_FAKE_WEBHOOK_URL }),
    envVar: "STRIPE_API_BASE_URL",
  },
  // The app must use FAKE_RAZORPAY_KEY_ID, _KEY_SECRET and _WEBHOOK_SECRET from ./razorpay.
  // Events are posted to RAZORPAY_FAKE_WEBHOOK_URL when set.
  razorpay: {
    create: () => createRazorpayFake({ webhookUrl: process.env.RAZORPAY_FAKE_WEBHOOK_URL }),
    envVar: "RAZORPAY_API_BASE_URL",
  },
};

/**
 * Starts the named fakes (default: all registered). With `basePort`, each fake listens on
 * basePort + its registry index (stable ports even for a subset); otherwise on an ephemeral port.
 */
export async function startFakes(names?: string[], basePort?: number): Promise<StartedFake[]> {
  const registered = Object.keys(fakeFactories);
  const wanted = names ?? registered;
  const started: StartedFake[] = [];
  try {
    for (const name of wanted) {
      const entry = fakeFactories[name];
      if (!entry) {
        throw new Error(`unknown fake "${name}" (registered: ${registered.join(", ") || "none"})`);
      }
      const fake = entry.create();
      const port = basePort === undefined ? 0 : basePort + registered.indexOf(name);
      const { url } = await fake.start({ port });
      started.push({ name, envVar: entry.envVar, url, fake });
    }
  } catch (err) {
    // Don't leak listeners when a later fake fails (e.g. port already in use).
    await stopFakes(started);
    throw err;
  }
  return started;
}

export async function stopFakes(started: readonly { fake: FakeServer }[]): Promise<void> {
  await Promise.all(started.map((s) => s.fake.stop()));
}

/** `{ ENV_VAR: url }` for started fakes, e.g. to spawn the app pointed at them. */
export function fakeEnv(started: readonly StartedFake[]): Record<string, string> {
  return Object.fromEntries(started.map((s) => [s.envVar, s.url]));
}
