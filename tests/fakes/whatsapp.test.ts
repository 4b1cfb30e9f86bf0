import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  createWhatsAppFake,
  FAKE_WHATSAPP_DEMO_NUMBER,
  inboundPayload,
  metaError,
  statusPayload,
  type WhatsAppFake,
  type WhatsAppFakeOptions,
} from "./whatsapp";

const NUMBER = FAKE_WHATSAPP_DEMO_NUMBER;
const AUTH = { authorization: `Bearer ${NUMBER.accessToken}` };

let fake: WhatsAppFake | undefined;

async function start(options: WhatsAppFakeOptions = {}): Promise<WhatsAppFake> {
  fake = createWhatsAppFake({ numbers: [NUMBER], ...options });
  await fake.start();
  return fake;
}

afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

function text(to = "919812345678", body = "hi"): Record<string, unknown> {
  return {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to,
    type: "text",
    text: { body },
  };
}

async function post(
  f: WhatsAppFake,
  body: unknown,
  headers: Record<string, string> = AUTH,
  id: string = NUMBER.phoneNumberId,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${f.url}/v21.0/${id}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function errorCode(json: Record<string, unknown>): unknown {
  return (json.error as { code?: unknown } | undefined)?.code;
}

describe("whatsapp fake", () => {
  it("accepts a text message in Meta's reply shape and records it", async () => {
    const f = await start();
    const { status, json } = await post(f, text("+919812345678", "Hello"));
    expect(status).toBe(200);
    const id = (json.messages as { id: string }[])[0]?.id ?? "";
    expect(id).toMatch(/^wamid\.[A-Za-z0-9+/=]+$/);
    expect(json).toEqual({
      messaging_product: "whatsapp",
      contacts: [{ input: "+919812345678", wa_id: "919812345678" }],
      messages: [{ id }],
    });
    expect(f.sent).toEqual([
      {
        phoneNumberId: NUMBER.phoneNumberId,
        to: "919812345678",
        type: "text",
        text: "Hello",
        wamid: id,
        at: expect.any(Number),
      },
    ]);
    expect(f.sentCount).toBe(1);
  });

  it("answers Meta's auth errors: 401/190 for an unknown token, 400/100 for another number", async () => {
    const f = await start();
    f.addNumber({ phoneNumberId: "2", accessToken: "other-token" });
    const none = await post(f, text(), {});
    expect([none.status, errorCode(none.json)]).toEqual([401, 190]);
    const bad = await post(f, text(), { authorization: "Bearer nope" });
    expect([bad.status, errorCode(bad.json)]).toEqual([401, 190]);
    const foreign = await post(f, text(), { authorization: "Bearer other-token" });
    expect([foreign.status, errorCode(foreign.json)]).toEqual([400, 100]);
    expect((foreign.json.error as { error_subcode?: number }).error_subcode).toBe(33);
    expect(f.sentCount).toBe(0);
  });

  it.each([
    ["invalid JSON", "{nope", 100],
    ["no messaging_product", { to: "919812345678", type: "text", text: { body: "x" } }, 100],
    ["a bad recipient", text("abc"), 100],
    ["an empty text", text("919812345678", ""), 131008],
    [
      "a template without language",
      { ...text(), type: "template", template: { name: "t" } },
      131008,
    ],
    ["an unsupported type", { ...text(), type: "sticker" }, 131051],
  ])("rejects %s", async (_label, body, code) => {
    const f = await start();
    const { status, json } = await post(f, body);
    expect(status).toBe(400);
    expect(errorCode(json)).toBe(code);
    expect(json.error).toMatchObject({
      type: "OAuthException",
      message: expect.stringMatching(new RegExp(`^\\(#${code}\\) `)),
      error_data: { messaging_product: "whatsapp", details: expect.any(String) },
      fbtrace_id: expect.any(String),
    });
  });

  it("enforces the 24 h window only when asked, and honours markInbound's time", async () => {
    let clock = 1_700_000_000_000;
    const f = await start({ enforceWindow: true, now: () => clock });
    expect(errorCode((await post(f, text())).json)).toBe(131047);
    f.markInbound(NUMBER.phoneNumberId, "+919812345678", clock - 25 * 60 * 60 * 1000);
    expect(errorCode((await post(f, text())).json)).toBe(131047);
    f.markInbound(NUMBER.phoneNumberId, "+919812345678");
    expect((await post(f, text())).status).toBe(200);
    clock += 24 * 60 * 60 * 1000 + 1;
    expect(errorCode((await post(f, text())).json)).toBe(131047);
    // Another recipient never wrote; a template always goes.
    const template = {
      ...text("14155550100"),
      type: "template",
      template: { name: "hello_world", language: { code: "en_US" } },
    };
    const ok = await post(f, template);
    expect(ok.status).toBe(200);
    expect(ok.json.messages).toEqual([{ id: expect.any(String), message_status: "accepted" }]);

    await f.stop();
    const open = await start();
    expect((await post(open, text())).status).toBe(200);
  });

  it("checks templates once some are registered, and lists them per WABA", async () => {
    const f = await start();
    const send = (name: string, language: string, params: string[]) =>
      post(f, {
        ...text(),
        type: "template",
        template: {
          name,
          language: { code: language },
          ...(params.length
            ? {
                components: [
                  { type: "body", parameters: params.map((t) => ({ type: "text", text: t })) },
                ],
              }
            : {}),
        },
      });
    expect((await send("anything", "xx", [])).status).toBe(200);
    f.addTemplate({
      name: "order_update",
      language: "en_US",
      category: "UTILITY",
      components: [{ type: "BODY", text: "Hi {{1}}, order {{2}} shipped." }],
    });
    f.addTemplate({ name: "other_waba", wabaId: "999" });
    const missing = await send("anything", "xx", []);
    expect([missing.status, errorCode(missing.json)]).toEqual([404, 132001]);
    expect(errorCode((await send("order_update", "hi", ["a", "b"])).json)).toBe(132001);
    expect(errorCode((await send("order_update", "en_US", ["a"])).json)).toBe(132000);
    expect((await send("order_update", "en_US", ["a", "b"])).status).toBe(200);
    expect(f.sent.at(-1)?.template).toEqual({
      name: "order_update",
      language: "en_US",
      params: ["a", "b"],
    });

    const list = await fetch(`${f.url}/v21.0/${NUMBER.wabaId}/message_templates`, {
      headers: AUTH,
    });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { data: unknown[] };
    expect(body.data).toEqual([
      {
        name: "order_update",
        language: "en_US",
        status: "APPROVED",
        category: "UTILITY",
        components: [{ type: "BODY", text: "Hi {{1}}, order {{2}} shipped." }],
        id: expect.any(String),
      },
    ]);
    const foreign = await fetch(`${f.url}/v21.0/999/message_templates`, { headers: AUTH });
    expect(foreign.status).toBe(400);
  });

  it("serves the phone number's fields", async () => {
    const f = await start();
    const res = await fetch(
      `${f.url}/v21.0/${NUMBER.phoneNumberId}?fields=display_phone_number,verified_name,messaging_limit_tier`,
      { headers: AUTH },
    );
    expect(await res.json()).toEqual({
      display_phone_number: "+91 98765 43210",
      verified_name: "Pleisys Demo",
      messaging_limit_tier: "TIER_1K",
      id: NUMBER.phoneNumberId,
    });
    const unknownField = await fetch(`${f.url}/v21.0/${NUMBER.phoneNumberId}?fields=nope`, {
      headers: AUTH,
    });
    expect(unknownField.status).toBe(400);
    const noAuth = await fetch(`${f.url}/v21.0/${NUMBER.phoneNumberId}`);
    expect(noAuth.status).toBe(401);
  });

  it("meters the largest count of accepted sends in any sliding 1,000 ms window", async () => {
    let clock = 0;
    const f = await start({ now: () => clock });
    const burst = async (n: number) => {
      for (let i = 0; i < n; i++) expect((await post(f, text())).status).toBe(200);
    };
    await burst(5); // t=0: window (−1000, 0] holds 5
    clock = 500;
    await burst(3); // 8
    expect(f.maxRatePerSecond(NUMBER.phoneNumberId)).toBe(8);
    clock = 1000;
    await burst(4); // (0, 1000]: the t=0 sends fall out → 3 + 4 = 7
    expect(f.maxRatePerSecond(NUMBER.phoneNumberId)).toBe(8);
    clock = 1400;
    await burst(2); // (400, 1400]: 3 + 4 + 2 = 9
    expect(f.maxRatePerSecond(NUMBER.phoneNumberId)).toBe(9);
    clock = 2400;
    await burst(1); // (1400, 2400]: 1
    expect(f.maxRatePerSecond(NUMBER.phoneNumberId)).toBe(9);
    // Rejected sends are not counted.
    await post(f, text("bad"));
    expect(f.maxRatePerSecond(NUMBER.phoneNumberId)).toBe(9);
    expect(f.maxRatePerSecond("unknown")).toBe(0);
    expect(f.sentCount).toBe(15);
    f.clearSent();
    expect([f.sentCount, f.sent.length, f.maxRatePerSecond(NUMBER.phoneNumberId)]).toEqual([
      0, 0, 0,
    ]);
  });

  it("applies its own per-number rate limit with 130429", async () => {
    let clock = 10_000;
    const f = await start({ ratePerSecond: 2, now: () => clock });
    f.addNumber({ phoneNumberId: "2", accessToken: "t2" });
    expect((await post(f, text())).status).toBe(200);
    expect((await post(f, text())).status).toBe(200);
    const over = await post(f, text());
    expect([over.status, errorCode(over.json)]).toEqual([400, 130429]);
    // Other numbers have their own budget.
    expect((await post(f, text(), { authorization: "Bearer t2" }, "2")).status).toBe(200);
    clock += 1000;
    expect((await post(f, text())).status).toBe(200);
    expect(f.maxRatePerSecond(NUMBER.phoneNumberId)).toBe(2);
  });

  it("only counts with record: false", async () => {
    const f = await start({ record: false });
    await Promise.all(Array.from({ length: 10 }, () => post(f, text())));
    expect(f.sentCount).toBe(10);
    expect(f.sent).toEqual([]);
  });

  it("injects Meta errors with metaError", async () => {
    const f = await start();
    f.injectFault(metaError(131049, "Healthy ecosystem", 400, { headers: { "retry-after": "5" } }));
    const res = await fetch(`${f.url}/v21.0/${NUMBER.phoneNumberId}/messages`, {
      method: "POST",
      headers: AUTH,
      body: JSON.stringify(text()),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toMatchObject({
      error: { code: 131049, message: "(#131049) Healthy ecosystem", type: "OAuthException" },
    });
  });

  it("builds Meta webhook payloads and signs them with HMAC-SHA256 of the exact body", async () => {
    const f = await start();
    const payload = f.inboundPayload({
      phoneNumberId: NUMBER.phoneNumberId,
      from: "+16505551234",
      name: "Sheena",
      text: "hello",
      id: "wamid.X",
      timestamp: 1749416383,
    });
    expect(payload).toEqual({
      object: "whatsapp_business_account",
      entry: [
        {
          id: NUMBER.wabaId,
          changes: [
            {
              field: "messages",
              value: {
                messaging_product: "whatsapp",
                metadata: {
                  display_phone_number: "919876543210",
                  phone_number_id: NUMBER.phoneNumberId,
                },
                contacts: [{ profile: { name: "Sheena" }, wa_id: "16505551234" }],
                messages: [
                  {
                    from: "16505551234",
                    id: "wamid.X",
                    timestamp: "1749416383",
                    type: "text",
                    text: { body: "hello" },
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    const failed = statusPayload({
      phoneNumberId: "1",
      wamid: "wamid.Y",
      status: "failed",
      recipient: "+1555",
      timestamp: 1,
      errors: [{ code: 131026, title: "Message undeliverable" }],
    });
    expect(failed.entry[0]?.changes[0]?.value.statuses).toEqual([
      {
        id: "wamid.Y",
        status: "failed",
        timestamp: "1",
        recipient_id: "1555",
        errors: [
          {
            code: 131026,
            title: "Message undeliverable",
            message: "Message undeliverable",
            error_data: { details: "Message undeliverable" },
            href: expect.any(String),
          },
        ],
      },
    ]);
    expect(
      inboundPayload({ phoneNumberId: "1", from: "1", name: "n", text: "t" }).entry[0]?.changes[0]
        ?.value.messages,
    ).toEqual([
      {
        from: "1",
        id: expect.stringMatching(/^wamid\./),
        timestamp: expect.any(String),
        type: "text",
        text: { body: "t" },
      },
    ]);

    const signed = f.signedWebhook("secret", payload);
    expect(signed.body.toString("utf8")).toBe(JSON.stringify(payload));
    const expected = createHmac("sha256", "secret").update(signed.body).digest("hex");
    expect(signed.headers).toEqual({
      "content-type": "application/json",
      "x-hub-signature-256": `sha256=${expected}`,
    });
  });
});

describe("whatsapp fake: message templates", () => {
  const path = `/v21.0/${NUMBER.wabaId}/message_templates`;

  async function list(
    f: WhatsAppFake,
    query = "",
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${f.url}${path}${query}`, { headers: AUTH });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  async function create(
    f: WhatsAppFake,
    body: unknown,
    headers: Record<string, string> = AUTH,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${f.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  const valid = {
    name: "order_shipped",
    language: "en_US",
    category: "UTILITY",
    components: [
      {
        type: "BODY",
        text: "Hi {{1}}, order {{2}} is on its way.",
        example: { body_text: [["Ada", "#42"]] },
      },
    ],
  };

  function userTitle(json: Record<string, unknown>): unknown {
    return (json.error as { error_user_title?: unknown } | undefined)?.error_user_title;
  }

  it("pages with limit and the after cursor, giving paging.next until the last page", async () => {
    const f = await start();
    for (let i = 0; i < 5; i++) f.addTemplate({ name: `t${i}` });
    const names: string[] = [];
    let query = "?fields=name,status,rejected_reason&limit=2";
    let pages = 0;
    for (;;) {
      const page = await list(f, query);
      expect(page.status).toBe(200);
      pages += 1;
      const data = page.json.data as Record<string, unknown>[];
      for (const t of data) {
        expect(Object.keys(t).sort()).toEqual(["id", "name", "rejected_reason", "status"]);
        names.push(t.name as string);
      }
      const paging = page.json.paging as { next?: string; cursors: { after: string } };
      if (!paging.next) break;
      const next = new URL(paging.next);
      expect(next.origin).toBe(f.url);
      expect(next.searchParams.get("after")).toBe(paging.cursors.after);
      expect(next.searchParams.get("fields")).toBe("name,status,rejected_reason");
      query = next.search;
    }
    expect(pages).toBe(3);
    expect(names).toEqual(["t0", "t1", "t2", "t3", "t4"]);

    expect((await list(f, "?after=bogus")).status).toBe(400);
    expect((await list(f, "?fields=name,nonsense")).status).toBe(400);
  });

  it("stores a submitted template as PENDING; setTemplateStatus approves, rejects and pauses it", async () => {
    const f = await start();
    const created = await create(f, valid);
    expect(created).toEqual({
      status: 200,
      json: { id: expect.stringMatching(/^\d+$/), status: "PENDING", category: "UTILITY" },
    });
    const first = await list(f, "?fields=name,language,status,rejected_reason,components");
    expect(first.json.data).toEqual([
      {
        name: "order_shipped",
        language: "en_US",
        status: "PENDING",
        rejected_reason: "NONE",
        components: valid.components,
        id: (created.json as { id: string }).id,
      },
    ]);
    // Pending templates cannot be sent yet.
    const send = () =>
      post(f, {
        messaging_product: "whatsapp",
        to: "919812345678",
        type: "template",
        template: {
          name: "order_shipped",
          language: { code: "en_US" },
          components: [
            {
              type: "body",
              parameters: [
                { type: "text", text: "A" },
                { type: "text", text: "B" },
              ],
            },
          ],
        },
      });
    expect(errorCode((await send()).json)).toBe(132001);
    f.setTemplateStatus("order_shipped", "en_US", "APPROVED");
    expect((await send()).status).toBe(200);

    f.setTemplateStatus("order_shipped", "en_US", "REJECTED", "TAG_CONTENT_MISMATCH");
    const rejected = (await list(f, "?fields=status,rejected_reason")).json.data as unknown[];
    expect(rejected).toEqual([
      { status: "REJECTED", rejected_reason: "TAG_CONTENT_MISMATCH", id: expect.any(String) },
    ]);
    f.setTemplateStatus("order_shipped", "en_US", "PAUSED");
    expect((await list(f, "?fields=status,rejected_reason")).json.data).toEqual([
      { status: "PAUSED", rejected_reason: "NONE", id: expect.any(String) },
    ]);
    expect(() => f.setTemplateStatus("nope", "en", "APPROVED")).toThrow(/no template/);

    expect(f.removeTemplate("order_shipped", "en_US")).toBe(1);
    expect((await list(f)).json.data).toEqual([]);
  });

  it("refuses invalid submissions and duplicates as Meta does", async () => {
    const f = await start();
    const cases: [unknown, string][] = [
      [{ ...valid, name: "Order Shipped" }, "Invalid template name"],
      [{ ...valid, language: "english" }, "Invalid language"],
      [{ ...valid, category: "PROMO" }, "Invalid category"],
      [{ ...valid, components: [{ type: "FOOTER", text: "x" }] }, "Missing message body"],
      [
        { ...valid, components: [{ type: "BODY", text: "Hi {{1}} and {{2}}" }] },
        "Missing sample values",
      ],
      [
        {
          ...valid,
          components: [{ type: "BODY", text: "Hi {{1}}.", example: { body_text: [["a", "b"]] } }],
        },
        "Missing sample values",
      ],
      [
        { ...valid, components: [{ type: "BODY", text: "x".repeat(1025) }] },
        "Message body too long",
      ],
    ];
    for (const [body, title] of cases) {
      const reply = await create(f, body);
      expect([reply.status, errorCode(reply.json), userTitle(reply.json)]).toEqual([
        400,
        100,
        title,
      ]);
    }
    expect((await create(f, valid)).status).toBe(200);
    const duplicate = await create(f, valid);
    expect(duplicate.status).toBe(400);
    expect(duplicate.json.error).toMatchObject({
      code: 100,
      error_subcode: 2388024,
      error_user_title: "Content in this language already exists",
    });
    // Same name, another language: a new translation is fine.
    expect((await create(f, { ...valid, language: "hi" })).status).toBe(200);

    expect((await create(f, valid, { authorization: "Bearer wrong" })).status).toBe(401);
  });

  it("keeps templates apart per WABA", async () => {
    const f = await start();
    f.addNumber({ phoneNumberId: "2", accessToken: "other", wabaId: "777" });
    expect((await create(f, valid)).status).toBe(200);
    const other = await fetch(`${f.url}/v21.0/777/message_templates`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer other" },
      body: JSON.stringify(valid),
    });
    expect(other.status).toBe(200);
    const otherList = await fetch(`${f.url}/v21.0/777/message_templates`, {
      headers: { authorization: "Bearer other" },
    });
    expect(((await otherList.json()) as { data: unknown[] }).data).toHaveLength(1);
    f.setTemplateStatus("order_shipped", "en_US", "APPROVED", undefined, "777");
    const mine = (await list(f, "?fields=status")).json.data;
    expect(mine).toEqual([{ status: "PENDING", id: expect.any(String) }]);
  });
});
