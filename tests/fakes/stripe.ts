// Fake Stripe API (the subset billing uses) on the paths stripe-node calls: form-encoded bodies
// in bracket syntax, Bearer secret key, Stripe JSON objects and error shape, Idempotency-Key
// replay. Customers, prices (or inline price_data), Checkout Sessions with a hosted page at
// GET /pay/checkout/:id, subscriptions, invoices, payment intents, charges, refunds, billing
// portal sessions and events. Webhooks are signed as Stripe signs them (see stripe-wire.ts).
// Point stripe-node at it with `{ host: "127.0.0.1", port, protocol: "http" }` (the app:
// STRIPE_API_BASE_URL).
import { escapeHtml } from "../../app/lib/html";
import { createFakeServer, type FakeReply, type FakeRequest, type FakeServer } from "./base";
import { checkoutPage, page } from "./stripe-pages";
import { createStripeBilling, type Json, type Obj, type StripeBilling } from "./stripe-billing";
import {
  decodeStripeForm,
  type FormObject,
  invalidParam,
  list,
  metadata,
  missing,
  nowSeconds,
  obj,
  paramMissing,
  str,
  stripeError,
  stripeId,
  stripeList,
  stripeSignatureHeader,
} from "./stripe-wire";
import { createWebhookOutbox, webhookHelpers, type WebhookDelivery } from "./webhook-outbox";

export { stripeFault, stripeSignatureHeader, decodeStripeForm } from "./stripe-wire";

export const FAKE_STRIPE_SECRET_KEY = "sk_test_fake_engage_0000000000000000";
export const FAKE_STRIPE_PUBLISHABLE_KEY = "pk_test_fake_engage_0000000000000000";
export const FAKE_STRIPE_WEBHOOK_SECRET = "whsec_fake_engage_0000000000000000";

export interface StripeFakeOptions {
  port?: number;
  secretKey?: string;
  webhookSecret?: string;
  /** Where events are posted from the start (see `setWebhook`). */
  webhookUrl?: string;
}

export interface SignedStripeEvent {
  event: Obj;
  /** The exact bytes to post; the signature covers them. */
  body: string;
  headers: { "content-type": string; "stripe-signature": string };
}

export interface StripeFake extends FakeServer {
  /** Every request the fake received, oldest first (same as `requests`). */
  readonly calls: FakeServer["requests"];
  /** Every event the fake emitted, oldest first (also without a webhook URL). */
  readonly events: Obj[];
  /** Every webhook post attempt, oldest first (replays included). */
  readonly deliveries: WebhookDelivery[];
  setWebhook(url: string | null, secret?: string): void;
  /** Emits an event of `type` about `object` (also stored for GET /v1/events/:id). */
  sendEvent(type: string, object: Obj, previousAttributes?: Json): Promise<WebhookDelivery | null>;
  /** Posts a stored event again, signed with a fresh timestamp, as Stripe's retries do. */
  replay(eventId: string): Promise<WebhookDelivery>;
  /** Keeps emitted events back until `releaseEvents` (to deliver them out of order). */
  holdEvents(): void;
  releaseEvents(order?: "sent" | "reverse" | string[]): Promise<WebhookDelivery[]>;
  /** Resolves once every queued webhook post has been attempted. */
  settled(): Promise<void>;
  /** A signed event body for posting by hand; `timestamp` (unix s) makes a stale one. */
  signedEvent(
    type: string,
    object: Obj,
    options?: { secret?: string; timestamp?: number; previousAttributes?: Json },
  ): SignedStripeEvent;
  /**
   * The next `times` charges fail: error code card_declined with this decline_code (default
   * generic_decline; e.g. insufficient_funds).
   */
  failNextCharge(code?: string, times?: number): void;
  /** Renewal: the subscription moves to its next period and its invoice is charged. */
  advanceSubscription(id: string, options?: { fail?: boolean }): Promise<Obj>;
  /** Objects by id, as the API would return them (undefined if unknown). */
  get(id: string): Obj | undefined;
}

const API_VERSION = "2026-11-18.endive";

export function createStripeFake(options: StripeFakeOptions = {}): StripeFake {
  const secretKey = options.secretKey ?? FAKE_STRIPE_SECRET_KEY;
  const outbox = createWebhookOutbox(
    options.webhookSecret ?? FAKE_STRIPE_WEBHOOK_SECRET,
    (body, secret) => ({ "stripe-signature": stripeSignatureHeader(body, secret) }),
  );
  outbox.url = options.webhookUrl ?? null;
  const objects = new Map<string, Obj>();
  const events: Obj[] = [];
  const idempotency = new Map<string, { fingerprint: string; reply: FakeReply }>();
  let baseUrl = "";

  function buildEvent(type: string, object: Obj, previousAttributes?: Json): Obj {
    const event: Obj = {
      id: stripeId("evt"),
      object: "event",
      api_version: API_VERSION,
      created: nowSeconds(),
      data: {
        object: structuredClone(object),
        ...(previousAttributes ? { previous_attributes: previousAttributes } : {}),
      },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
    return event;
  }

  function emit(type: string, object: Obj, previousAttributes?: Json) {
    const event = buildEvent(type, object, previousAttributes);
    events.push(event);
    objects.set(event.id, event);
    return outbox.deliver(event.id, type, JSON.stringify(event));
  }

  const billing: StripeBilling = createStripeBilling({
    objects,
    emit: (type, object, prev) => void emit(type, object, prev),
    baseUrl: () => baseUrl,
  });

  type Handler = (req: FakeRequest, body: FormObject) => FakeReply;
  const json = (data: unknown, status = 200): FakeReply => ({
    status,
    headers: { "request-id": stripeId("req"), "stripe-version": API_VERSION },
    json: data,
  });

  // Auth, then Idempotency-Key replay for POSTs: same key + same request → the stored answer.
  function api(method: string, path: string | RegExp, handler: Handler) {
    return {
      method,
      path,
      handler(req: FakeRequest): FakeReply {
        const auth = req.headers.authorization ?? "";
        const key = auth.startsWith("Bearer ") ? auth.slice(7) : "";
        if (key !== secretKey) {
          const shown = key ? `${key.slice(0, 8)}********${key.slice(-4)}` : "";
          return stripeError(
            401,
            "invalid_request_error",
            key
              ? `Invalid API Key provided: ${shown}`
              : "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth.",
            { code: "api_key_invalid" },
          );
        }
        const idemKey = req.headers["idempotency-key"];
        const fingerprint = `${req.method} ${req.path} ${req.text}`;
        if (req.method === "POST" && idemKey) {
          const seen = idempotency.get(idemKey);
          if (seen && seen.fingerprint !== fingerprint) {
            return stripeError(
              400,
              "idempotency_error",
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idemKey}' if you meant to execute a different request.`,
            );
          }
          if (seen) {
            return {
              ...seen.reply,
              headers: { ...seen.reply.headers, "idempotent-replayed": "true" },
            };
          }
        }
        const body =
          req.method === "GET"
            ? decodeStripeForm(req.query.toString())
            : decodeStripeForm(req.text);
        const reply = handler(req, body);
        // Stripe stores the first answer (errors included) except for 5xx and 429.
        if (
          req.method === "POST" &&
          idemKey &&
          (reply.status ?? 200) < 500 &&
          reply.status !== 429
        ) {
          idempotency.set(idemKey, { fingerprint, reply });
        }
        return reply;
      },
    };
  }

  function fetchOf(kind: string, object: string): Handler {
    return (req) => {
      const o = objects.get(req.params.id ?? "");
      return o && o.object === object ? json(o) : missing(kind, req.params.id ?? "");
    };
  }

  const limitOf = (body: FormObject) => Math.min(Number(str(body.limit) ?? 10) || 10, 100);
  const all = (object: string) =>
    [...objects.values()].filter((o) => o.object === object).reverse();

  const routes = [
    api("POST", "/v1/customers", (_req, body) => {
      const c: Obj = {
        id: stripeId("cus"),
        object: "customer",
        created: nowSeconds(),
        livemode: false,
        email: str(body.email) ?? null,
        name: str(body.name) ?? null,
        description: str(body.description) ?? null,
        phone: str(body.phone) ?? null,
        address: Object.keys(obj(body.address)).length ? obj(body.address) : null,
        currency: null,
        balance: 0,
        delinquent: false,
        metadata: metadata(body.metadata),
        preferred_locales: [],
        invoice_prefix: stripeId("").slice(1, 9).toUpperCase(),
      };
      objects.set(c.id, c);
      return json(c);
    }),
    api("GET", /\/v1\/customers\/(?<id>[^/]+)/, fetchOf("customer", "customer")),
    api("POST", /\/v1\/customers\/(?<id>[^/]+)/, (req, body) => {
      const c = objects.get(req.params.id ?? "");
      if (!c || c.object !== "customer") return missing("customer", req.params.id ?? "");
      for (const k of ["email", "name", "description", "phone"]) {
        if (str(body[k]) !== undefined) c[k] = str(body[k]);
      }
      if (body.address) c.address = obj(body.address);
      c.metadata = metadata(body.metadata, c.metadata as Record<string, string>);
      return json(c);
    }),
    api("POST", "/v1/prices", (_req, body) => {
      const price = billing.priceFrom(body);
      return typeof price === "string" ? invalidParam("unit_amount", price) : json(price);
    }),
    api("GET", /\/v1\/prices\/(?<id>[^/]+)/, fetchOf("price", "price")),
    api("POST", "/v1/checkout/sessions", (_req, body) => {
      const mode = str(body.mode);
      if (!mode) return paramMissing("mode");
      if (mode !== "subscription" && mode !== "payment") {
        return invalidParam("mode", `Invalid mode: must be one of payment, setup, or subscription`);
      }
      const items = list(body.line_items);
      if (items.length === 0) return paramMissing("line_items");
      const lines: Obj[] = [];
      for (const [i, item] of items.entries()) {
        const price = str(item.price)
          ? objects.get(str(item.price)!)
          : billing.priceFrom(obj(item.price_data));
        if (!price) return missing("price", str(item.price) ?? "");
        if (typeof price === "string") return invalidParam(`line_items[${i}][price_data]`, price);
        const recurring = price.recurring !== null;
        if (mode === "subscription" && !recurring && i === 0) {
          return invalidParam(
            `line_items[${i}]`,
            "You must provide at least one recurring price in `subscription` mode when using prices.",
          );
        }
        if (mode === "payment" && recurring) {
          return invalidParam(
            `line_items[${i}]`,
            "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
          );
        }
        lines.push({ id: stripeId("li"), price, quantity: Number(str(item.quantity) ?? 1) });
      }
      const currency = String((lines[0]!.price as Obj).currency);
      if (lines.some((l) => (l.price as Obj).currency !== currency)) {
        return invalidParam(
          "line_items",
          "All prices on a Checkout Session must share a currency.",
        );
      }
      const customer = str(body.customer);
      if (customer && objects.get(customer)?.object !== "customer")
        return missing("customer", customer);
      const successUrl = str(body.success_url);
      if (!successUrl && str(body.ui_mode) !== "embedded") return paramMissing("success_url");
      const amount = lines.reduce(
        (s, l) => s + ((l.price as Obj).unit_amount as number) * (l.quantity as number),
        0,
      );
      const id = stripeId("cs_test");
      const session: Obj = {
        id,
        object: "checkout.session",
        created: nowSeconds(),
        expires_at: nowSeconds() + 24 * 3600,
        livemode: false,
        mode,
        status: "open",
        payment_status: "unpaid",
        currency,
        amount_subtotal: amount,
        amount_total: amount,
        customer: customer ?? null,
        customer_email: str(body.customer_email) ?? null,
        client_reference_id: str(body.client_reference_id) ?? null,
        metadata: metadata(body.metadata),
        success_url: successUrl ?? null,
        cancel_url: str(body.cancel_url) ?? null,
        url: `${baseUrl}/pay/checkout/${id}`,
        subscription: null,
        payment_intent: null,
        invoice: null,
      };
      billing.sessionExtras.set(id, {
        lines,
        subscriptionMetadata: metadata(obj(body.subscription_data).metadata),
        trialDays: Number(str(obj(body.subscription_data).trial_period_days) ?? 0),
        paymentMetadata: metadata(obj(body.payment_intent_data).metadata),
      });
      objects.set(id, session);
      return json(session);
    }),
    api(
      "GET",
      /\/v1\/checkout\/sessions\/(?<id>[^/]+)/,
      fetchOf("checkout.session", "checkout.session"),
    ),
    api("GET", "/v1/subscriptions", (req, body) => {
      const customer = str(body.customer);
      const status = str(body.status);
      const data = all("subscription").filter(
        (s) =>
          (!customer || s.customer === customer) &&
          (status === "all" || (status ? s.status === status : s.status !== "canceled")),
      );
      return json(stripeList(req.path, data, limitOf(body)));
    }),
    api("GET", /\/v1\/subscriptions\/(?<id>[^/]+)/, fetchOf("subscription", "subscription")),
    api("POST", /\/v1\/subscriptions\/(?<id>[^/]+)/, (req, body) => {
      const sub = objects.get(req.params.id ?? "");
      if (!sub || sub.object !== "subscription")
        return missing("subscription", req.params.id ?? "");
      const result = billing.updateSubscription(sub, body);
      return typeof result === "string" ? invalidParam("items", result) : json(result);
    }),
    api("DELETE", /\/v1\/subscriptions\/(?<id>[^/]+)/, (req) => {
      const sub = objects.get(req.params.id ?? "");
      if (!sub || sub.object !== "subscription")
        return missing("subscription", req.params.id ?? "");
      if (sub.status === "canceled") {
        return invalidParam("id", `A canceled subscription can only update its metadata.`);
      }
      return json(billing.cancelNow(sub));
    }),
    api("GET", "/v1/invoices", (req, body) => {
      const customer = str(body.customer);
      const subscription = str(body.subscription);
      const status = str(body.status);
      const data = all("invoice").filter(
        (i) =>
          (!customer || i.customer === customer) &&
          (!subscription || billing.subscriptionOf(i) === subscription) &&
          (!status || i.status === status),
      );
      return json(stripeList(req.path, data, limitOf(body)));
    }),
    api("POST", "/v1/invoices/create_preview", (_req, body) => {
      const subId = str(body.subscription);
      if (!subId) return paramMissing("subscription");
      const sub = objects.get(subId);
      if (!sub || sub.object !== "subscription") return missing("subscription", subId);
      const draft = billing.previewInvoice(sub, obj(body.subscription_details));
      return typeof draft === "string" ? invalidParam("subscription_details", draft) : json(draft);
    }),
    api("GET", /\/v1\/invoices\/(?<id>[^/]+)/, fetchOf("invoice", "invoice")),
    api("POST", /\/v1\/invoices\/(?<id>[^/]+)\/pay/, (req) => {
      const inv = objects.get(req.params.id ?? "");
      if (!inv || inv.object !== "invoice") return missing("invoice", req.params.id ?? "");
      if (inv.status !== "open") {
        return invalidParam("invoice", `Invoice is already ${String(inv.status)}.`);
      }
      const declined = billing.payInvoice(inv);
      if (declined) {
        return stripeError(402, "card_error", "Your card was declined.", {
          code: "card_declined",
          decline_code: declined,
        });
      }
      return json(inv);
    }),
    api("GET", /\/v1\/payment_intents\/(?<id>[^/]+)/, fetchOf("payment_intent", "payment_intent")),
    api("GET", /\/v1\/charges\/(?<id>[^/]+)/, fetchOf("charge", "charge")),
    api("POST", "/v1/refunds", (_req, body) => {
      const refund = billing.refund(body);
      return "error" in refund ? refund.error : json(refund.refund);
    }),
    api("GET", /\/v1\/refunds\/(?<id>[^/]+)/, fetchOf("refund", "refund")),
    api("POST", "/v1/billing_portal/sessions", (_req, body) => {
      const customer = str(body.customer);
      if (!customer) return paramMissing("customer");
      if (objects.get(customer)?.object !== "customer") return missing("customer", customer);
      const id = stripeId("bps");
      const portal: Obj = {
        id,
        object: "billing_portal.session",
        created: nowSeconds(),
        livemode: false,
        customer,
        return_url: str(body.return_url) ?? null,
        url: `${baseUrl}/pay/portal/${id}`,
      };
      objects.set(id, portal);
      return json(portal);
    }),
    api("GET", /\/v1\/events\/(?<id>[^/]+)/, fetchOf("event", "event")),
    api("GET", "/v1/events", (req, body) => {
      const type = str(body.type);
      const data = [...events].reverse().filter((e) => !type || e.type === type);
      return json(stripeList(req.path, data, limitOf(body)));
    }),
    {
      method: "GET",
      path: /\/pay\/checkout\/(?<id>[^/]+)/,
      handler(req: FakeRequest): FakeReply {
        const s = objects.get(req.params.id ?? "");
        if (!s || s.object !== "checkout.session")
          return page(404, "Not found", "<p>No such checkout.</p>");
        return checkoutPage(s, "");
      },
    },
    {
      method: "POST",
      path: /\/pay\/checkout\/(?<id>[^/]+)/,
      handler(req: FakeRequest): FakeReply {
        const s = objects.get(req.params.id ?? "");
        if (!s || s.object !== "checkout.session")
          return page(404, "Not found", "<p>No such checkout.</p>");
        if (s.status !== "open") return checkoutPage(s, "This checkout is already complete.");
        const action = req.form().get("action");
        if (action === "decline") return checkoutPage(s, "Your card was declined.", 402);
        if (action !== "pay") return checkoutPage(s, "Choose Pay or Decline.", 400);
        const declined = billing.completeCheckout(s);
        if (declined) return checkoutPage(s, "Your card was declined.", 402);
        const target = String(s.success_url ?? `${baseUrl}/pay/done`).replace(
          "{CHECKOUT_SESSION_ID}",
          String(s.id),
        );
        return { status: 303, headers: { location: target } };
      },
    },
    {
      method: "GET",
      path: /\/pay\/(?<kind>invoice|portal)\/(?<id>[^/]+)/,
      handler(req: FakeRequest): FakeReply {
        const o = objects.get(req.params.id ?? "");
        if (!o) return page(404, "Not found", "<p>Unknown link.</p>");
        if (o.object === "invoice") {
          return page(
            200,
            `Invoice ${String(o.number)}`,
            `<h1>Invoice ${escapeHtml(String(o.number))}</h1><p>Status: ${escapeHtml(String(o.status))}</p><p>Amount paid: ${String(o.amount_paid)} ${escapeHtml(String(o.currency))}</p>`,
          );
        }
        const back = o.return_url ? `<a href="${escapeHtml(String(o.return_url))}">Return</a>` : "";
        return page(
          200,
          "Billing portal",
          `<h1>Billing portal</h1><p>Customer ${escapeHtml(String(o.customer))}</p>${back}`,
        );
      },
    },
  ];

  const server = createFakeServer({ name: "stripe", routes, port: options.port });
  const start = server.start.bind(server);

  return Object.defineProperties(server, {
    start: {
      value: async (o?: { port?: number }) => {
        const started = await start(o);
        baseUrl = started.url;
        return started;
      },
    },
    calls: { get: () => server.requests, enumerable: true },
    ...webhookHelpers(outbox, events),
    sendEvent: { value: emit },
    signedEvent: {
      value: (
        type: string,
        object: Obj,
        o: { secret?: string; timestamp?: number; previousAttributes?: Json } = {},
      ): SignedStripeEvent => {
        const event = buildEvent(type, object, o.previousAttributes);
        const body = JSON.stringify(event);
        return {
          event,
          body,
          headers: {
            "content-type": "application/json",
            "stripe-signature": stripeSignatureHeader(body, o.secret ?? outbox.secret, o.timestamp),
          },
        };
      },
    },
    failNextCharge: {
      value: (code = "generic_decline", times = 1) => billing.failNext(code, times),
    },
    advanceSubscription: {
      value: async (id: string, o: { fail?: boolean } = {}) => {
        const sub = objects.get(id);
        if (!sub || sub.object !== "subscription")
          throw new Error(`stripe fake: no subscription ${id}`);
        billing.renew(sub, o.fail === true);
        return sub;
      },
    },
    get: { value: (id: string) => objects.get(id) },
  }) as StripeFake;
}
