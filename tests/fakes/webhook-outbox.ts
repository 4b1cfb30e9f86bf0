// Outgoing webhook deliveries shared by the payment fakes (Stripe, Razorpay): posts signed event
// bodies to the URL a test sets, one at a time in order, and keeps every attempt so tests can
// replay an event, hold events back and release them out of order, or wait for them to land.

export interface WebhookDelivery {
  eventId: string;
  type: string;
  /** The exact bytes posted; signatures cover them. */
  body: string;
  headers: Record<string, string>;
  /** The receiver's HTTP status; null when nothing was listening or the post failed. */
  status: number | null;
  error?: string;
  at: number;
}

interface Pending {
  eventId: string;
  type: string;
  body: string;
}

export interface WebhookOutbox {
  /** Where events go; null keeps them only in `events` (nothing is posted). */
  url: string | null;
  secret: string;
  /** Every attempt, oldest first (replays included). */
  readonly deliveries: WebhookDelivery[];
  /** Queues an event for delivery; resolves with the attempt (null while held or no URL). */
  deliver(eventId: string, type: string, body: string): Promise<WebhookDelivery | null>;
  /** Posts the same body again (re-signed by the provider's rule), as a provider retry does. */
  replay(eventId: string): Promise<WebhookDelivery>;
  /** From now on events are kept back instead of posted, until `release`. */
  hold(): void;
  /** Posts the held events in the given order ("reverse", or event ids) and stops holding. */
  release(order?: "sent" | "reverse" | string[]): Promise<WebhookDelivery[]>;
  /** Resolves once every queued delivery has been attempted. */
  settled(): Promise<void>;
}

export function createWebhookOutbox(
  secret: string,
  sign: (body: string, secret: string) => Record<string, string>,
): WebhookOutbox {
  const bodies = new Map<string, Pending>();
  let held: Pending[] | null = null;
  let chain: Promise<unknown> = Promise.resolve();

  async function post(p: Pending): Promise<WebhookDelivery> {
    const headers = { "content-type": "application/json", ...sign(p.body, outbox.secret) };
    const delivery: WebhookDelivery = { ...p, headers, status: null, at: Date.now() };
    outbox.deliveries.push(delivery);
    if (!outbox.url) return delivery;
    try {
      const res = await fetch(outbox.url, {
        method: "POST",
        headers,
        body: p.body,
        signal: AbortSignal.timeout(10_000),
      });
      delivery.status = res.status;
      await res.arrayBuffer();
    } catch (err) {
      delivery.error = err instanceof Error ? err.message : String(err);
    }
    return delivery;
  }

  // Serialised so a receiver sees events in the order the fake emitted them unless told otherwise.
  function queue(p: Pending): Promise<WebhookDelivery> {
    const next = chain.then(() => post(p));
    chain = next.catch(() => undefined);
    return next;
  }

  const outbox: WebhookOutbox = {
    url: null,
    secret,
    deliveries: [],
    deliver(eventId, type, body) {
      const p = { eventId, type, body };
      bodies.set(eventId, p);
      if (held) {
        held.push(p);
        return Promise.resolve(null);
      }
      if (!outbox.url) {
        outbox.deliveries.push({ ...p, headers: {}, status: null, at: Date.now() });
        return Promise.resolve(null);
      }
      return queue(p);
    },
    replay(eventId) {
      const p = bodies.get(eventId);
      if (!p) throw new Error(`webhook outbox: no event ${eventId}`);
      return queue(p);
    },
    hold() {
      held ??= [];
    },
    async release(order = "sent") {
      const list = held ?? [];
      held = null;
      let ordered: Pending[];
      if (order === "sent") ordered = list;
      else if (order === "reverse") ordered = [...list].reverse();
      else {
        ordered = order.map((id) => {
          const p = list.find((x) => x.eventId === id);
          if (!p) throw new Error(`webhook outbox: event ${id} is not held`);
          return p;
        });
      }
      const out: WebhookDelivery[] = [];
      for (const p of ordered) out.push(await queue(p));
      return out;
    },
    async settled() {
      await chain;
    },
  };
  return outbox;
}

/**
 * The webhook side both payment fakes expose on the server object: the events they built, the
 * deliveries tried, where to post them, and replay / hold / release in any order.
 */
export function webhookHelpers(
  outbox: WebhookOutbox,
  events: readonly unknown[],
): PropertyDescriptorMap {
  return {
    events: { value: events, enumerable: true },
    deliveries: { value: outbox.deliveries, enumerable: true },
    setWebhook: {
      value: (url: string | null, secret?: string) => {
        outbox.url = url;
        if (secret) outbox.secret = secret;
      },
    },
    replay: { value: (id: string) => outbox.replay(id) },
    holdEvents: { value: () => outbox.hold() },
    releaseEvents: { value: (order?: "sent" | "reverse" | string[]) => outbox.release(order) },
    settled: { value: () => outbox.settled() },
  };
}
