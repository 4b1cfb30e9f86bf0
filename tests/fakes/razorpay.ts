// Fake Razorpay API (the subset billing uses) on the paths razorpay-node calls under /v1/:
// HTTP Basic key_id:key_secret, JSON bodies, Razorpay's error shape
// {error: {code: "BAD_REQUEST_ERROR", description, field, source, step, reason, metadata}}.
// Customers, plans, subscriptions (short_url → a hosted UPI autopay / e-mandate page with
// Authorise and Fail), orders, payments (fetch, capture, refund), payment links (short_url →
// hosted page), subscription invoices and refunds. Webhooks are signed as Razorpay signs them:
// X-Razorpay-Signature = hex HMAC-SHA256(webhook secret, raw body), plus X-Razorpay-Event-Id.
// Point razorpay-node at it with `rp.api.rq.defaults.baseURL = fake.url` (the SDK adds /v1;
// the app: RAZORPAY_API_BASE_URL).
import { createFakeServer, type FakeReply, type FakeRequest, type FakeServer } from "./base";
import {
  createRazorpayBilling,
  type Entity,
  type Json,
  nowSeconds,
  razorpayId,
} from "./razorpay-billing";
import { createRazorpayPages } from "./razorpay-pages";
import {
  flag,
  isAmount,
  notFound,
  razorpayError,
  razorpaySignature,
  SUBSCRIPTION_FIELDS,
  unexpected,
} from "./razorpay-wire";
import { createWebhookOutbox, webhookHelpers, type WebhookDelivery } from "./webhook-outbox";

export { razorpayError, razorpayFault, razorpaySignature } from "./razorpay-wire";

export const FAKE_RAZORPAY_KEY_ID = "rzp_test_FakeEngage0001";
export const FAKE_RAZORPAY_KEY_SECRET = "fake_engage_razorpay_secret_000";
export const FAKE_RAZORPAY_WEBHOOK_SECRET = "fake_engage_razorpay_webhook_000";
const ACCOUNT_ID = "acc_FakeEngage0001";

export interface RazorpayFakeOptions {
  port?: number;
  keyId?: string;
  keySecret?: string;
  webhookSecret?: string;
  webhookUrl?: string;
}

export interface SignedRazorpayEvent {
  event: Json;
  eventId: string;
  /** The exact bytes to post; the signature covers them. */
  body: string;
  headers: {
    "content-type": string;
    "x-razorpay-signature": string;
    "x-razorpay-event-id": string;
  };
}

export interface RazorpayFake extends FakeServer {
  readonly calls: FakeServer["requests"];
  /** Every webhook body emitted, oldest first (parsed), with its event id. */
  readonly events: { eventId: string; event: Json }[];
  readonly deliveries: WebhookDelivery[];
  setWebhook(url: string | null, secret?: string): void;
  /** Emits `event` (e.g. "payment.captured") carrying these entities in `payload`. */
  sendEvent(event: string, entities: Record<string, Json>): Promise<WebhookDelivery | null>;
  /** Posts a stored event again: same body, same event id, same signature. */
  replay(eventId: string): Promise<WebhookDelivery>;
  holdEvents(): void;
  releaseEvents(order?: "sent" | "reverse" | string[]): Promise<WebhookDelivery[]>;
  settled(): Promise<void>;
  /** A signed event to post by hand; `createdAt` (unix s) in the past makes a stale one. */
  signedEvent(
    event: string,
    entities: Record<string, Json>,
    options?: { secret?: string; createdAt?: number },
  ): SignedRazorpayEvent;
  /** The next `times` charges fail with this error_reason (default payment_failed). */
  failNextCharge(reason?: string, times?: number): void;
  /** The next cycle: charge (subscription.charged), or on failure pending, then halted. */
  advanceSubscription(id: string, options?: { fail?: boolean }): Promise<Json>;
  /**
   * What Razorpay Checkout does for an order: a payment (captured unless `capture: false`)
   * and the handler's fields, signed with the key secret as Checkout signs them.
   */
  payOrder(
    orderId: string,
    options?: { fail?: boolean; capture?: boolean; method?: string },
  ): {
    payment: Json;
    razorpay_payment_id: string;
    razorpay_order_id: string;
    razorpay_signature: string;
  };
  get(id: string): Json | undefined;
}

export function createRazorpayFake(options: RazorpayFakeOptions = {}): RazorpayFake {
  const keyId = options.keyId ?? FAKE_RAZORPAY_KEY_ID;
  const keySecret = options.keySecret ?? FAKE_RAZORPAY_KEY_SECRET;
  const outbox = createWebhookOutbox(
    options.webhookSecret ?? FAKE_RAZORPAY_WEBHOOK_SECRET,
    (body, secret) => ({
      "x-razorpay-signature": razorpaySignature(body, secret),
      "x-razorpay-event-id": eventIds.get(body) ?? "",
    }),
  );
  outbox.url = options.webhookUrl ?? null;
  const eventIds = new Map<string, string>();
  const entities = new Map<string, Entity>();
  const events: { eventId: string; event: Json }[] = [];
  let baseUrl = "";

  function buildEvent(
    event: string,
    payload: Record<string, { entity: Json }>,
    createdAt = nowSeconds(),
  ): Json {
    return {
      entity: "event",
      account_id: ACCOUNT_ID,
      event,
      contains: Object.keys(payload),
      payload,
      created_at: createdAt,
    };
  }

  function emit(event: string, payload: Record<string, { entity: Json }>) {
    const body = JSON.stringify(buildEvent(event, payload));
    const eventId = razorpayId("evt");
    eventIds.set(body, eventId);
    events.push({ eventId, event: JSON.parse(body) as Json });
    return outbox.deliver(eventId, event, body);
  }

  const billing = createRazorpayBilling({
    entities,
    emit: (e, p) => void emit(e, p),
    baseUrl: () => baseUrl,
  });

  const { hosted, hostedPost } = createRazorpayPages({ entities, billing, keySecret });
  type Handler = (req: FakeRequest, body: Json) => FakeReply;
  const json = (data: unknown, status = 200): FakeReply => ({ status, json: data });

  function api(method: string, path: string | RegExp, handler: Handler) {
    return {
      method,
      path,
      handler(req: FakeRequest): FakeReply {
        const auth = req.headers.authorization ?? "";
        const expected = `Basic ${Buffer.from(`${keyId}:${keySecret}`).toString("base64")}`;
        if (auth !== expected) return razorpayError(401, "Authentication failed");
        let body: Json = {};
        if (req.text.trim() !== "") {
          try {
            body = req.json<Json>();
          } catch {
            return razorpayError(400, "The request body is not valid JSON", "");
          }
        }
        return handler(req, body);
      },
    };
  }

  function fetchOf(entity: string): Handler {
    return (req) => {
      const e = entities.get(req.params.id ?? "");
      return e && e.entity === entity ? json(e) : notFound();
    };
  }

  const routes = [
    api("POST", "/v1/customers", (_req, b) => {
      if (
        typeof b.name !== "string" &&
        typeof b.email !== "string" &&
        typeof b.contact !== "string"
      ) {
        return razorpayError(400, "The name field is required.", "name");
      }
      const existing = [...entities.values()].find(
        (e) =>
          e.entity === "customer" &&
          ((b.email && e.email === b.email) || (b.contact && e.contact === b.contact)),
      );
      if (existing) {
        if (flag(b.fail_existing ?? 1))
          return razorpayError(400, "Customer already exists for the merchant", "");
        return json(existing);
      }
      const c: Entity = {
        id: razorpayId("cust"),
        entity: "customer",
        name: b.name ?? null,
        email: b.email ?? null,
        contact: b.contact ?? null,
        gstin: b.gstin ?? null,
        notes: b.notes ?? [],
        created_at: nowSeconds(),
      };
      entities.set(c.id, c);
      return json(c);
    }),
    api("GET", /\/v1\/customers\/(?<id>[^/]+)/, fetchOf("customer")),
    api("PUT", /\/v1\/customers\/(?<id>[^/]+)/, (req, b) => {
      const c = entities.get(req.params.id ?? "");
      if (!c || c.entity !== "customer") return notFound();
      const extra = unexpected(b, ["name", "email", "contact"]);
      if (extra) return extra;
      for (const k of ["name", "email", "contact"]) if (k in b) c[k] = b[k];
      return json(c);
    }),
    api("POST", "/v1/plans", (_req, b) => {
      const item = (b.item ?? {}) as Json;
      if (!["daily", "weekly", "monthly", "yearly"].includes(String(b.period))) {
        return razorpayError(
          400,
          "The period field is required and must be one of daily, weekly, monthly, yearly.",
          "period",
        );
      }
      const interval = Number(b.interval);
      if (!Number.isInteger(interval) || interval < 1 || (b.period === "daily" && interval < 7)) {
        return razorpayError(
          400,
          "The interval must be at least 1 (at least 7 for daily plans).",
          "interval",
        );
      }
      if (!isAmount(item.amount))
        return razorpayError(400, "The amount must be atleast INR 1.00", "amount");
      if (typeof item.name !== "string")
        return razorpayError(400, "The name field is required.", "name");
      const now = nowSeconds();
      const p: Entity = {
        id: razorpayId("plan"),
        entity: "plan",
        interval,
        period: b.period,
        item: {
          id: razorpayId("item"),
          active: true,
          name: item.name,
          description: item.description ?? null,
          amount: item.amount,
          unit_amount: item.amount,
          currency: item.currency ?? "INR",
          type: "plan",
          unit: null,
          tax_inclusive: false,
          hsn_code: null,
          sac_code: null,
          tax_rate: null,
          tax_id: null,
          tax_group_id: null,
          created_at: now,
          updated_at: now,
        },
        notes: b.notes ?? [],
        created_at: now,
      };
      entities.set(p.id, p);
      return json(p);
    }),
    api("GET", /\/v1\/plans\/(?<id>[^/]+)/, fetchOf("plan")),
    api("POST", "/v1/subscriptions", (_req, b) => {
      // The customer is not named here: Razorpay links one when the mandate is authorised.
      const extra = unexpected(b, SUBSCRIPTION_FIELDS);
      if (extra) return extra;
      const plan = entities.get(String(b.plan_id));
      if (!plan || plan.entity !== "plan")
        return razorpayError(400, "The id provided does not exist", "plan_id");
      const total = Number(b.total_count);
      if (!Number.isInteger(total) || total < 1) {
        return razorpayError(400, "The total count field is required.", "total_count");
      }
      const startAt = b.start_at === undefined ? null : Number(b.start_at);
      const id = razorpayId("sub");
      const s: Entity = {
        id,
        entity: "subscription",
        plan_id: plan.id,
        customer_id: null,
        status: "created",
        current_start: null,
        current_end: null,
        ended_at: null,
        quantity: Number(b.quantity ?? 1),
        notes: b.notes ?? [],
        charge_at: startAt,
        start_at: startAt,
        end_at: null,
        auth_attempts: 0,
        total_count: total,
        paid_count: 0,
        customer_notify: flag(b.customer_notify ?? 1),
        created_at: nowSeconds(),
        expire_by: b.expire_by ?? null,
        short_url: `${baseUrl}/pay/subscription/${id}`,
        has_scheduled_changes: false,
        change_scheduled_at: null,
        source: "api",
        payment_method: null,
        offer_id: null,
        remaining_count: total,
      };
      entities.set(id, s);
      return json(s);
    }),
    api("GET", /\/v1\/subscriptions\/(?<id>[^/]+)/, fetchOf("subscription")),
    api("POST", /\/v1\/subscriptions\/(?<id>[^/]+)\/cancel/, (req, b) => {
      const s = entities.get(req.params.id ?? "");
      if (!s || s.entity !== "subscription") return notFound();
      if (!["created", "authenticated", "active", "pending", "halted"].includes(String(s.status))) {
        return razorpayError(400, `Subscription is not cancellable in ${String(s.status)} status.`);
      }
      billing.cancel(s, flag(b.cancel_at_cycle_end));
      return json(s);
    }),
    api("POST", "/v1/orders", (_req, b) => {
      if (!isAmount(b.amount))
        return razorpayError(400, "The amount must be atleast INR 1.00", "amount");
      if (typeof b.currency !== "string")
        return razorpayError(400, "The currency field is required.", "currency");
      if (typeof b.receipt === "string" && b.receipt.length > 40) {
        return razorpayError(400, "The receipt may not be greater than 40 characters.", "receipt");
      }
      const o: Entity = {
        id: razorpayId("order"),
        entity: "order",
        amount: b.amount,
        amount_paid: 0,
        amount_due: b.amount,
        currency: b.currency,
        receipt: b.receipt ?? null,
        offer_id: null,
        status: "created",
        attempts: 0,
        notes: b.notes ?? [],
        created_at: nowSeconds(),
      };
      entities.set(o.id, o);
      return json(o);
    }),
    api("GET", /\/v1\/orders\/(?<id>[^/]+)/, fetchOf("order")),
    api("GET", /\/v1\/payments\/(?<id>[^/]+)/, fetchOf("payment")),
    api("POST", /\/v1\/payments\/(?<id>[^/]+)\/capture/, (req, b) => {
      const p = entities.get(req.params.id ?? "");
      if (!p || p.entity !== "payment") return notFound();
      if (p.status !== "authorized") {
        return razorpayError(400, `This payment has already been ${String(p.status)}`);
      }
      if (b.amount !== p.amount) {
        return razorpayError(
          400,
          "Capture amount must be equal to the amount authorized",
          "amount",
        );
      }
      billing.capture(p);
      return json(p);
    }),
    api("POST", /\/v1\/payments\/(?<id>[^/]+)\/refund/, (req, b) => {
      const p = entities.get(req.params.id ?? "");
      if (!p || p.entity !== "payment") return notFound();
      if (p.status !== "captured") {
        return razorpayError(400, "The payment status should be captured for action to be taken");
      }
      const left = (p.amount as number) - (p.amount_refunded as number);
      const amount = b.amount === undefined ? left : Number(b.amount);
      if (!Number.isInteger(amount) || amount < 100 || amount > left) {
        return razorpayError(
          400,
          "The refund amount provided is greater than amount captured",
          "amount",
        );
      }
      return json(billing.refund(p, amount, (b.notes ?? {}) as Json, String(b.speed ?? "normal")));
    }),
    api("GET", /\/v1\/refunds\/(?<id>[^/]+)/, fetchOf("refund")),
    api("POST", "/v1/payment_links", (_req, b) => {
      if (!isAmount(b.amount))
        return razorpayError(400, "The amount must be atleast INR 1.00", "amount");
      const id = razorpayId("plink");
      const now = nowSeconds();
      const link: Entity = {
        id,
        entity: "payment_link",
        accept_partial: flag(b.accept_partial),
        amount: b.amount,
        amount_paid: 0,
        callback_method: b.callback_method ?? "",
        callback_url: b.callback_url ?? "",
        cancelled_at: 0,
        created_at: now,
        currency: b.currency ?? "INR",
        customer: b.customer ?? {},
        description: b.description ?? "",
        expire_by: b.expire_by ?? 0,
        expired_at: 0,
        first_min_partial_amount: 0,
        notes: b.notes ?? null,
        notify: b.notify ?? { email: false, sms: false },
        order_id: "",
        payments: null,
        reference_id: b.reference_id ?? "",
        reminder_enable: flag(b.reminder_enable),
        reminders: [],
        short_url: `${baseUrl}/pay/link/${id}`,
        status: "created",
        updated_at: now,
        upi_link: flag(b.upi_link),
        user_id: "",
      };
      entities.set(id, link);
      return json(link);
    }),
    api("GET", /\/v1\/payment_links\/(?<id>[^/]+)/, fetchOf("payment_link")),
    api("GET", /\/v1\/invoices\/(?<id>[^/]+)/, fetchOf("invoice")),
    api("GET", "/v1/invoices", (req) => {
      const sub = req.query.get("subscription_id");
      const count = Math.min(Number(req.query.get("count") ?? 10) || 10, 100);
      const skip = Number(req.query.get("skip") ?? 0) || 0;
      const items = [...entities.values()]
        .filter((e) => e.entity === "invoice" && (!sub || e.subscription_id === sub))
        .reverse()
        .slice(skip, skip + count);
      return json({ entity: "collection", count: items.length, items });
    }),
    {
      method: "GET",
      path: /\/pay\/(?<kind>subscription|link|invoice)\/(?<id>[^/]+)/,
      handler: hosted,
    },
    {
      method: "POST",
      path: /\/pay\/(?<kind>subscription|link)\/(?<id>[^/]+)/,
      handler: hostedPost,
    },
  ];

  const server = createFakeServer({ name: "razorpay", routes, port: options.port });
  const start = server.start.bind(server);
  const wrap = (entitiesIn: Record<string, Json>) =>
    Object.fromEntries(Object.entries(entitiesIn).map(([k, v]) => [k, { entity: v }]));

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
    sendEvent: { value: (event: string, e: Record<string, Json>) => emit(event, wrap(e)) },
    signedEvent: {
      value: (
        event: string,
        e: Record<string, Json>,
        o: { secret?: string; createdAt?: number } = {},
      ) => {
        const built = buildEvent(event, wrap(e), o.createdAt);
        const body = JSON.stringify(built);
        const eventId = razorpayId("evt");
        return {
          event: built,
          eventId,
          body,
          headers: {
            "content-type": "application/json",
            "x-razorpay-signature": razorpaySignature(body, o.secret ?? outbox.secret),
            "x-razorpay-event-id": eventId,
          },
        } satisfies SignedRazorpayEvent;
      },
    },
    failNextCharge: {
      value: (reason = "payment_failed", times = 1) => billing.failNext(reason, times),
    },
    advanceSubscription: {
      value: async (id: string, o: { fail?: boolean } = {}) => {
        const s = entities.get(id);
        if (!s || s.entity !== "subscription")
          throw new Error(`razorpay fake: no subscription ${id}`);
        billing.renew(s, o.fail === true);
        return s;
      },
    },
    payOrder: {
      value: (orderId: string, o: { fail?: boolean; capture?: boolean; method?: string } = {}) => {
        const order = entities.get(orderId);
        if (!order || order.entity !== "order")
          throw new Error(`razorpay fake: no order ${orderId}`);
        const payment = billing.pay({
          amount: order.amount_due as number,
          currency: String(order.currency),
          method: o.method ?? "upi",
          orderId,
          capture: o.capture,
          fail: o.fail,
          notes: order.notes as Json,
        });
        return {
          payment,
          razorpay_payment_id: payment.id,
          razorpay_order_id: orderId,
          razorpay_signature: razorpaySignature(`${orderId}|${payment.id}`, keySecret),
        };
      },
    },
    get: { value: (id: string) => entities.get(id) },
  }) as RazorpayFake;
}
