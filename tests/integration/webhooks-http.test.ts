import { createHmac } from "node:crypto";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkspaceContext } from "~/domain/context";
import { saveIntegration } from "~/domain/delivery/integrations.server";
import { queueMessages } from "~/domain/delivery/outbox.server";
import { reloadEnv } from "~/lib/env.server";
import {
  createWhatsAppFake,
  signWebhook,
  statusPayload,
  type WhatsAppFake,
} from "../fakes/whatsapp";
import { giveConsent, insertContact } from "../support/contacts";
import { dispatchAll } from "../support/delivery";
import { makeWorkspace } from "../support/workspaces";
import type { TestServer } from "../support/server";
import { startServer } from "../support/teams";

/**
 * Provider webhooks through the real server process (server.ts, production build): Express's
 * raw-body route, the integration lookup, the adapter's verification, the durable insert before
 * the 200 and the asynchronous apply. The workspace, its WhatsApp integration and a sent message
 * are made in this process first (through the WhatsApp fake), in the DATA_DIR the server then
 * opens.
 */

const BASE_URL = "http://engage.test";
const NUMBER = { phoneNumberId: "1065550123", accessToken: "token-http", wabaId: "200123" };
const APP_SECRET = "http-app-secret";
const VERIFY_TOKEN = "http-verify-token";
const PHONE = "+919876512345";

let fake: WhatsAppFake;
let server: TestServer;
let ctx: WorkspaceContext;
let integrationId: string;
let messageId: string;
let wamid: string;

function path(id = integrationId, segment = "whatsapp") {
  return `/webhooks/${segment}/${id}`;
}

function status(s: "delivered" | "read") {
  return statusPayload({
    phoneNumberId: NUMBER.phoneNumberId,
    wamid,
    status: s,
    recipient: PHONE.slice(1),
  });
}

/** A valid X-Hub-Signature-256 over any bytes (malformed bodies included). */
function signature(body: string | Buffer): string {
  return `sha256=${createHmac("sha256", APP_SECRET).update(body).digest("hex")}`;
}

function post(body: string | Buffer, headers: Record<string, string>, id = integrationId) {
  const bytes = typeof body === "string" ? body : new Uint8Array(body);
  return server.fetch(path(id), { method: "POST", headers, body: bytes });
}

function stored(eventId: string): number {
  return (
    ctx.db.$client
      .prepare("SELECT count(*) AS n FROM webhook_events WHERE event_id = ?")
      .get(eventId) as { n: number }
  ).n;
}

function allStored(): number {
  return (ctx.db.$client.prepare("SELECT count(*) AS n FROM webhook_events").get() as { n: number })
    .n;
}

function messageStatus(): string {
  return (
    ctx.db.$client.prepare("SELECT status FROM messages WHERE id = ?").get(messageId) as {
      status: string;
    }
  ).status;
}

beforeAll(async () => {
  fake = createWhatsAppFake({ numbers: [NUMBER] });
  await fake.start();
  process.env.WHATSAPP_API_BASE_URL = fake.url;
  process.env.BASE_URL = BASE_URL;
  reloadEnv();
  ctx = await makeWorkspace("hooks-http");
  integrationId = saveIntegration(ctx, ctx.workspaceId, "whatsapp", {
    ...NUMBER,
    appSecret: APP_SECRET,
    verifyToken: VERIFY_TOKEN,
  }).id;
  const contactId = insertContact(ctx.db, { name: "Asha", phone: PHONE });
  giveConsent(ctx.db, contactId, "whatsapp", "granted");
  messageId = queueMessages(ctx, [
    {
      contactId,
      channel: "whatsapp",
      kind: "marketing",
      content: {
        channel: "whatsapp",
        type: "template",
        name: "offer",
        language: "en",
        bodyParams: ["x"],
      },
    },
  ]).ids[0]!;
  await dispatchAll(ctx);
  expect(messageStatus()).toBe("sent");
  wamid = (
    ctx.db.$client
      .prepare("SELECT provider_message_id AS id FROM messages WHERE id = ?")
      .get(messageId) as { id: string }
  ).id;
  server = await startServer({
    env: { BASE_URL, WHATSAPP_API_BASE_URL: fake.url },
  });
});

afterAll(async () => {
  await server?.stop();
  await fake?.stop();
});

describe("WhatsApp webhook over HTTP", () => {
  it("answers the verification handshake with the challenge", async () => {
    const response = await server.fetch(
      `${path()}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=123`,
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("123");
  });

  it("refuses the handshake with a wrong verify token", async () => {
    const response = await server.fetch(
      `${path()}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=123`,
    );
    expect(response.status).toBe(403);
    expect(await response.text()).not.toContain("123");
  });

  it("refuses a forged signature with 401 and stores nothing", async () => {
    const before = allStored();
    const signed = signWebhook("not-the-app-secret", status("read"));
    const response = await post(signed.body, signed.headers);
    expect(response.status).toBe(401);
    expect(allStored()).toBe(before);
  });

  it("answers 400 to malformed JSON with a valid signature", async () => {
    const body = '{"object":"whatsapp_business_account","entry":[';
    const response = await post(body, {
      "content-type": "application/json",
      "x-hub-signature-256": signature(body),
    });
    expect(response.status).toBe(400);
  });

  it("answers 404 for an unknown integration id", async () => {
    const signed = signWebhook(APP_SECRET, status("delivered"));
    expect((await post(signed.body, signed.headers, "int_0000000000000000")).status).toBe(404);
    expect((await post(signed.body, signed.headers, "not-an-id")).status).toBe(404);
  });

  it("answers 404 for this integration under another provider's path", async () => {
    const signed = signWebhook(APP_SECRET, status("delivered"));
    for (const segment of ["sms", "ses", "telegram", "nope"]) {
      const response = await server.fetch(path(integrationId, segment), {
        method: "POST",
        headers: signed.headers,
        body: new Uint8Array(signed.body),
      });
      expect(response.status, segment).toBe(404);
    }
    expect(stored(`${wamid}:delivered`)).toBe(0);
  });

  it("stores a valid signed status before answering 200, then applies it", async () => {
    const signed = signWebhook(APP_SECRET, status("delivered"));
    const response = await post(signed.body, signed.headers);
    expect(response.status).toBe(200);
    expect(stored(`${wamid}:delivered`)).toBe(1);
    // A replay is stored once.
    expect((await post(signed.body, signed.headers)).status).toBe(200);
    expect(stored(`${wamid}:delivered`)).toBe(1);
    const deadline = Date.now() + 10_000;
    while (messageStatus() !== "delivered" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(messageStatus()).toBe("delivered");
  });
});

describe("malformed requests never make a 500", () => {
  const cases: Array<{ name: string; expected: number; send: () => Promise<Response> }> = [
    {
      name: "empty body without a signature",
      expected: 401,
      send: () => post("", {}),
    },
    {
      name: "empty body with a valid signature",
      expected: 400,
      send: () => post("", { "x-hub-signature-256": signature("") }),
    },
    {
      name: "JSON null with a valid signature",
      expected: 400,
      send: () =>
        post("null", {
          "content-type": "application/json",
          "x-hub-signature-256": signature("null"),
        }),
    },
    {
      name: "a malformed signature header",
      expected: 401,
      send: () => post("{}", { "x-hub-signature-256": "sha256=zz" }),
    },
    {
      name: "a non-JSON content type (signed JSON body)",
      expected: 200,
      send: () => {
        const body = JSON.stringify(
          statusPayload({
            phoneNumberId: NUMBER.phoneNumberId,
            wamid: "wamid.unknown",
            status: "sent",
            recipient: "1",
          }),
        );
        return post(body, { "content-type": "text/plain", "x-hub-signature-256": signature(body) });
      },
    },
    {
      name: "a form body with a form content type",
      expected: 400,
      send: () =>
        post("a=1&b=2", {
          "content-type": "application/x-www-form-urlencoded",
          "x-hub-signature-256": signature("a=1&b=2"),
        }),
    },
    {
      name: "multipart garbage",
      expected: 400,
      send: () => {
        const body = "--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--";
        return post(body, {
          "content-type": "multipart/form-data; boundary=x",
          "x-hub-signature-256": signature(body),
        });
      },
    },
    {
      name: "a huge header",
      expected: 431,
      send: () =>
        post("{}", { "x-padding": "a".repeat(64 * 1024), "x-hub-signature-256": signature("{}") }),
    },
    {
      name: "a body over the size limit",
      expected: 413,
      send: () => {
        const body = Buffer.alloc(2 * 1024 * 1024, 0x20);
        return post(body, {
          "content-type": "application/json",
          "x-hub-signature-256": signature(body),
        });
      },
    },
    {
      name: "a gzip content-encoding that is not gzip",
      expected: 400,
      send: () =>
        post("not gzip at all", {
          "content-encoding": "gzip",
          "x-hub-signature-256": signature("not gzip at all"),
        }),
    },
    {
      name: "an unsupported content-encoding",
      expected: 415,
      send: () =>
        post("{}", { "content-encoding": "snappy", "x-hub-signature-256": signature("{}") }),
    },
    {
      name: "a badly percent-encoded id",
      expected: 400,
      send: () => server.fetch("/webhooks/whatsapp/%E0%A4%A", { method: "POST", body: "{}" }),
    },
    {
      name: "a PUT",
      expected: 400,
      send: () =>
        server.fetch(path(), {
          method: "PUT",
          body: "{}",
          headers: { "x-hub-signature-256": signature("{}") },
        }),
    },
    {
      name: "a GET without a challenge",
      expected: 400,
      send: () => server.fetch(`${path()}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}`),
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const response = await c.send();
      await response.arrayBuffer();
      expect(response.status).toBe(c.expected);
    });
  }

  it("a gzip-encoded signed body is inflated before the signature check", async () => {
    const signed = signWebhook(APP_SECRET, status("read"));
    const response = await post(gzipSync(signed.body), {
      ...signed.headers,
      "content-encoding": "gzip",
    });
    expect(response.status).toBe(200);
  });

  it("the server logged no 5xx and no error", () => {
    const statuses = server.logs.filter((l) => l.msg === "request").map((l) => l.status as number);
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(server.logs.filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
  });
});
