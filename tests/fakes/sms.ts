// Fake Twilio-compatible Messages API (the 2010-04-01 REST dialect): POST
// /2010-04-01/Accounts/{sid}/Messages.json (form-encoded, HTTP Basic sid:token) answering 201
// with a Message resource, GET /2010-04-01/Accounts/{sid}.json, and Twilio's error shape
// {code, message, more_info, status}. It also plays Twilio's side of webhooks: signed status
// callbacks and inbound messages (X-Twilio-Signature). Point the app at it with
// SMS_API_BASE_URL.
import { createHmac, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { createFakeServer, type FakeReply, type FakeServer, type Fault } from "./base";

/**
 * Accepted events in a sliding window (default 1,000 ms): `current` for rate limiting, `max`
 * for "the highest rate ever seen in any window". A queue of timestamps, each pushed and
 * dropped once: O(1) amortised per event.
 */
export class RateMeter {
  private times: number[] = [];
  private head = 0;
  private peak = 0;

  constructor(private readonly windowMs = 1000) {}

  private drop(now: number): void {
    const edge = now - this.windowMs;
    while (this.head < this.times.length && this.times[this.head]! <= edge) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }

  /** Events in the window ending at `now`. */
  current(now: number = performance.now()): number {
    this.drop(now);
    return this.times.length - this.head;
  }

  record(now: number = performance.now()): void {
    this.drop(now);
    this.times.push(now);
    this.peak = Math.max(this.peak, this.times.length - this.head);
  }

  /** The most events seen in any window so far. */
  get max(): number {
    return this.peak;
  }

  /** ms until the oldest event in the window leaves it (0 if the window is empty). */
  msUntilFree(now: number = performance.now()): number {
    this.drop(now);
    const oldest = this.times[this.head];
    return oldest === undefined ? 0 : Math.max(0, oldest + this.windowMs - now);
  }
}

export interface SmsFakeOptions {
  /** Per-account limit of accepted messages in any 1,000 ms window; over it → 429 / 20429. */
  ratePerSecond?: number;
  /** Keep `sent` and the base request log (default true); false keeps memory flat for benchmarks. */
  record?: boolean;
  /** Accounts known from the start (e.g. FAKE_SMS_DEMO_ACCOUNT for `npm run fakes`). */
  accounts?: SmsFakeAccount[];
  /**
   * Play Twilio's status callbacks by itself: after each accepted message that has a
   * StatusCallback, POST "sent" then "delivered" (or "undelivered" for numbers marked with
   * `undeliverable`), signed, `delayMs` later (default 50). Off by default.
   */
  autoCallbacks?: boolean | { delayMs?: number };
}

export interface SmsFakeAccount {
  sid: string;
  token: string;
  friendlyName?: string;
  /** Account status returned by GET Accounts/{sid}.json (default "active"). */
  status?: "active" | "suspended" | "closed";
}

export interface SmsSent {
  sid: string;
  accountSid: string;
  to: string;
  from?: string;
  body: string;
  /** Every form parameter as received (To, From, Body, StatusCallback, DltEntityId, ...). */
  params: Record<string, string>;
  at: number;
}

export interface SmsFake extends FakeServer {
  addAccount(account: SmsFakeAccount): void;
  /** The number replied STOP: sends to it answer 400 / 21610. */
  optOut(to: string): void;
  /** Sends to the number are accepted but autoCallbacks report "undelivered" with this code. */
  undeliverable(to: string, errorCode?: string): void;
  /** Accepted messages, oldest first (empty when record: false). */
  readonly sent: SmsSent[];
  readonly sentCount: number;
  /** Max accepted messages of the account in any sliding 1,000 ms window. */
  maxRatePerSecond(sid: string): number;
  /**
   * Plays Twilio's status callback for an accepted message: a signed form POST to the
   * message's StatusCallback (needs record: true). Resolves with the HTTP status answered.
   */
  sendStatusCallback(messageSid: string, status: string, errorCode?: string): Promise<number>;
}

/** Twilio's error body. */
export function twilioErrorBody(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/** A fault for `fake.injectFault`, e.g. `twilioError(400, 21614, "not a mobile number")`. */
export function twilioError(
  status: number,
  code: number,
  message = `Error ${code} (injected)`,
  headers?: Record<string, string>,
): Fault {
  return { kind: "status", status, json: twilioErrorBody(status, code, message), headers };
}

function errorReply(
  status: number,
  code: number,
  message: string,
  headers?: Record<string, string>,
): FakeReply {
  return { status, json: twilioErrorBody(status, code, message), headers };
}

/** Twilio's X-Twilio-Signature: base64 HMAC-SHA1(token, url + sorted name+value pairs). */
export function signTwilio(
  authToken: string,
  url: string,
  params: Record<string, string> | [string, string][],
): string {
  const pairs = Array.isArray(params) ? [...params] : Object.entries(params);
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  let data = url;
  for (const [k, v] of pairs) data += k + v;
  return createHmac("sha1", authToken).update(data, "utf8").digest("base64");
}

/** A webhook request as Twilio sends it: form body plus signature over `url`. */
export function signedCallback(
  authToken: string,
  url: string,
  params: Record<string, string>,
): { body: string; headers: Record<string, string> } {
  return {
    body: new URLSearchParams(params).toString(),
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signTwilio(authToken, url, params),
    },
  };
}

const DEFAULT_ACCOUNT_SID = "AC00000000000000000000000000000000";

/** The account `npm run fakes` serves: configure the SMS integration with these. */
export const FAKE_SMS_DEMO_ACCOUNT: SmsFakeAccount = {
  sid: "ACfa4efa4efa4efa4efa4efa4efa4efa4e",
  token: "fake-sms-auth-token",
  friendlyName: "Engage demo (fake)",
};

/** The parameters of a Twilio SMS status callback. */
export function statusCallbackParams(input: {
  messageSid: string;
  status: string;
  errorCode?: string;
  to?: string;
  from?: string;
  accountSid?: string;
}): Record<string, string> {
  return {
    SmsSid: input.messageSid,
    SmsStatus: input.status,
    MessageStatus: input.status,
    To: input.to ?? "+919876543210",
    MessageSid: input.messageSid,
    AccountSid: input.accountSid ?? DEFAULT_ACCOUNT_SID,
    From: input.from ?? "+15005550006",
    ApiVersion: "2010-04-01",
    ...(input.errorCode ? { ErrorCode: input.errorCode } : {}),
  };
}

/** The parameters of a Twilio inbound SMS webhook. */
export function inboundParams(input: {
  from: string;
  to: string;
  body: string;
  messageSid?: string;
  accountSid?: string;
}): Record<string, string> {
  const sid = input.messageSid ?? `SM${randomBytes(16).toString("hex")}`;
  return {
    ToCountry: "US",
    ToState: "",
    SmsMessageSid: sid,
    NumMedia: "0",
    ToCity: "",
    FromZip: "",
    SmsSid: sid,
    FromState: "",
    SmsStatus: "received",
    FromCity: "",
    Body: input.body,
    FromCountry: "",
    To: input.to,
    ToZip: "",
    NumSegments: "1",
    MessageSid: sid,
    AccountSid: input.accountSid ?? DEFAULT_ACCOUNT_SID,
    From: input.from,
    ApiVersion: "2010-04-01",
  };
}

const E164 = /^\+[1-9]\d{6,14}$/;

function rfc2822(date: Date): string {
  return date.toUTCString().replace("GMT", "+0000");
}

function basicAuth(header: string | undefined): { user: string; pass: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? "");
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

export function createSmsFake(options: SmsFakeOptions = {}): SmsFake {
  const record = options.record ?? true;
  const limit = options.ratePerSecond;
  const accounts = new Map<string, Required<SmsFakeAccount>>();
  const optedOut = new Set<string>();
  const failing = new Map<string, string>();
  const auto = options.autoCallbacks;
  const autoDelayMs = typeof auto === "object" ? (auto.delayMs ?? 50) : 50;
  const timers = new Set<NodeJS.Timeout>();
  const meters = new Map<string, RateMeter>();
  const sent: SmsSent[] = [];
  const bySid = new Map<string, SmsSent>();
  let sentCount = 0;
  // Unique, cheap message sids: a random prefix per fake and a counter.
  const sidPrefix = randomBytes(8).toString("hex");
  let counter = 0;

  function authenticate(
    sid: string,
    header: string | undefined,
  ): Required<SmsFakeAccount> | FakeReply {
    const auth = basicAuth(header);
    const account = accounts.get(sid);
    if (!auth || !account || auth.user !== sid || auth.pass !== account.token) {
      return errorReply(401, 20003, "Authenticate", {
        "www-authenticate": 'Basic realm="Twilio API"',
      });
    }
    return account;
  }

  const fake = createFakeServer({
    name: "sms",
    routes: [
      {
        method: "POST",
        path: /^\/2010-04-01\/Accounts\/(?<sid>[^/]+)\/Messages\.json$/,
        handler(req, res) {
          // Benchmarks: keep the base request log from growing without bound.
          if (!record) fake.requests.length = 0;
          const sid = req.params.sid!;
          const account = authenticate(sid, req.headers.authorization);
          if (!("token" in account)) return account;

          let meter = meters.get(sid);
          if (!meter) meters.set(sid, (meter = new RateMeter()));
          const now = performance.now();
          if (limit !== undefined && meter.current(now) >= limit) {
            const seconds = Math.max(1, Math.ceil(meter.msUntilFree(now) / 1000));
            return errorReply(429, 20429, "Too Many Requests", { "retry-after": String(seconds) });
          }

          const form = req.form();
          const params: Record<string, string> = {};
          for (const [k, v] of form) params[k] = v;
          const to = params.To;
          const from = params.From;
          const body = params.Body;
          if (!to) return errorReply(400, 21604, "A 'To' phone number is required.");
          if (!from && !params.MessagingServiceSid) {
            return errorReply(400, 21603, "A 'From' phone number is required.");
          }
          if (!body) return errorReply(400, 21602, "Message body is required.");
          if (body.length > 1600) {
            return errorReply(
              400,
              21617,
              "The concatenated message body exceeds the 1600 character limit.",
            );
          }
          if (!E164.test(to)) {
            return errorReply(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
          }
          if (optedOut.has(to)) {
            return errorReply(400, 21610, "Attempt to send to unsubscribed recipient");
          }

          meter.record(now);
          sentCount++;
          const messageSid = `SM${sidPrefix}${(counter++).toString(16).padStart(16, "0")}`;
          if (record) {
            const entry = {
              sid: messageSid,
              accountSid: sid,
              to,
              from,
              body,
              params,
              at: Date.now(),
            };
            sent.push(entry);
            bySid.set(messageSid, entry);
          }
          if (auto && params.StatusCallback) {
            const callback = { accountSid: sid, url: params.StatusCallback, messageSid, to, from };
            const timer = setTimeout(() => {
              timers.delete(timer);
              const errorCode = failing.get(to);
              postCallback(callback, "sent")
                .then(() =>
                  postCallback(callback, errorCode ? "undelivered" : "delivered", errorCode),
                )
                .catch(() => undefined); // The app may be down: Twilio does not insist either.
            }, autoDelayMs);
            timers.add(timer);
          }
          const date = rfc2822(new Date());
          const uri = `/2010-04-01/Accounts/${sid}/Messages/${messageSid}.json`;
          return res.json(
            {
              account_sid: sid,
              api_version: "2010-04-01",
              body,
              date_created: date,
              date_sent: null,
              date_updated: date,
              direction: "outbound-api",
              error_code: null,
              error_message: null,
              from: from ?? null,
              messaging_service_sid: params.MessagingServiceSid ?? null,
              num_media: "0",
              num_segments: String(Math.max(1, Math.ceil(body.length / 153))),
              price: null,
              price_unit: "USD",
              sid: messageSid,
              // A Messaging Service without a From picks the sender later: "accepted".
              status: from ? "queued" : "accepted",
              subresource_uris: { media: uri.replace(/\.json$/, "/Media.json") },
              to,
              uri,
            },
            201,
          );
        },
      },
      {
        method: "GET",
        path: /^\/2010-04-01\/Accounts\/(?<sid>[^/]+)\.json$/,
        handler(req, res) {
          const sid = req.params.sid!;
          const account = authenticate(sid, req.headers.authorization);
          if (!("token" in account)) return account;
          const date = rfc2822(new Date());
          return res.json({
            auth_token: account.token,
            date_created: date,
            date_updated: date,
            friendly_name: account.friendlyName,
            owner_account_sid: sid,
            sid,
            status: account.status,
            subresource_uris: {},
            type: "Full",
            uri: `/2010-04-01/Accounts/${sid}.json`,
          });
        },
      },
    ],
  });

  async function postCallback(
    message: { accountSid: string; url: string; messageSid: string; to: string; from?: string },
    status: string,
    errorCode?: string,
  ): Promise<number> {
    const account = accounts.get(message.accountSid)!;
    const params = statusCallbackParams({
      messageSid: message.messageSid,
      status,
      errorCode,
      to: message.to,
      from: message.from,
      accountSid: message.accountSid,
    });
    const { body, headers } = signedCallback(account.token, message.url, params);
    const response = await fetch(message.url, { method: "POST", headers, body });
    await response.arrayBuffer();
    return response.status;
  }

  function addAccount(account: SmsFakeAccount): void {
    accounts.set(account.sid, {
      sid: account.sid,
      token: account.token,
      friendlyName: account.friendlyName ?? `${account.sid.slice(0, 8)} account`,
      status: account.status ?? "active",
    });
  }
  for (const account of options.accounts ?? []) addAccount(account);

  const stopServer = fake.stop.bind(fake);
  const smsFake = Object.assign(fake, {
    sent,
    addAccount,
    optOut(to: string): void {
      optedOut.add(to);
    },
    undeliverable(to: string, errorCode = "30003"): void {
      failing.set(to, errorCode);
    },
    async stop(): Promise<void> {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await stopServer();
    },
    maxRatePerSecond(sid: string): number {
      return meters.get(sid)?.max ?? 0;
    },
    async sendStatusCallback(
      messageSid: string,
      status: string,
      errorCode?: string,
    ): Promise<number> {
      const message = bySid.get(messageSid);
      const url = message?.params.StatusCallback;
      if (!message || !url) throw new Error(`sms fake: no StatusCallback for ${messageSid}`);
      return postCallback({ ...message, url, messageSid }, status, errorCode);
    },
  });
  // A live count, not a copy taken now.
  Object.defineProperty(smsFake, "sentCount", { get: () => sentCount, enumerable: true });
  return smsFake as SmsFake;
}
