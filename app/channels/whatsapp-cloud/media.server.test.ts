import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWhatsAppFake, type WhatsAppFake } from "../../../tests/fakes/whatsapp";
import type { ChannelAdapter } from "../types";
import { createWhatsAppAdapter } from "./adapter.server";

const NUMBER = { phoneNumberId: "111", accessToken: "tok", wabaId: "222" };
const SECRET = "app-secret";
const PDF = Buffer.from("%PDF-1.7\n%%EOF\n");

let fake: WhatsAppFake;
let adapter: ChannelAdapter;

beforeAll(async () => {
  fake = createWhatsAppFake({ numbers: [NUMBER] });
  const { url } = await fake.start();
  adapter = createWhatsAppAdapter(
    { ...NUMBER, appSecret: SECRET, verifyToken: "v" },
    { baseUrl: url },
  );
});
afterAll(() => fake.stop());

function webhook(payload: unknown) {
  const signed = fake.signedWebhook(SECRET, payload);
  return adapter.receiveWebhook({
    method: "POST",
    url: "https://engage.test/webhooks/whatsapp/x",
    headers: signed.headers,
    body: signed.body,
  });
}

describe("WhatsApp media", () => {
  it("uploads the bytes, then sends a document naming the uploaded id", async () => {
    const sent = await adapter.send({
      id: "msg_1",
      workspaceId: "ws",
      to: "+919800000001",
      content: {
        channel: "whatsapp",
        type: "media",
        media: {
          kind: "document",
          attachmentId: "att_x",
          mimeType: "application/pdf",
          filename: "terms.pdf",
        },
        caption: "Our terms",
      },
      media: { bytes: PDF, mimeType: "application/pdf", filename: "terms.pdf" },
    });
    const upload = fake.uploads.at(-1)!;
    expect(upload).toMatchObject({
      phoneNumberId: "111",
      mimeType: "application/pdf",
      filename: "terms.pdf",
    });
    expect(upload.bytes).toEqual(PDF);
    const message = fake.sent.at(-1)!;
    expect(message).toMatchObject({
      type: "document",
      to: "919800000001",
      media: { id: upload.id, caption: "Our terms", filename: "terms.pdf" },
    });
    expect(sent.providerMessageId).toBe(message.wamid);
  });

  it("refuses media content without its bytes", async () => {
    await expect(
      adapter.send({
        id: "msg_2",
        workspaceId: "ws",
        to: "+919800000001",
        content: {
          channel: "whatsapp",
          type: "media",
          media: { kind: "image", attachmentId: "att_y", mimeType: "image/png", filename: "a.png" },
        },
      }),
    ).rejects.toThrow("was not handed");
  });

  it("reads inbound button replies as their title, and media with its id, then downloads it", async () => {
    const button = await webhook(
      fake.inboundPayload({
        phoneNumberId: "111",
        from: "+919800000001",
        name: "Asha",
        text: "Yes, confirm",
        reply: { type: "button_reply" },
      }),
    );
    expect(button).toMatchObject({
      kind: "events",
      events: [{ type: "inbound", text: "Yes, confirm" }],
    });

    const mediaId = fake.addMedia({
      mimeType: "application/pdf",
      bytes: PDF,
      filename: "bill.pdf",
    });
    const doc = await webhook(
      fake.inboundMediaPayload({
        phoneNumberId: "111",
        from: "+919800000001",
        name: "Asha",
        kind: "document",
        mediaId,
        mimeType: "application/pdf",
        filename: "bill.pdf",
      }),
    );
    expect(doc).toMatchObject({
      kind: "events",
      events: [
        {
          type: "inbound",
          text: "[document: bill.pdf]",
          media: {
            id: mediaId,
            kind: "document",
            mimeType: "application/pdf",
            filename: "bill.pdf",
          },
        },
      ],
    });
    const image = await webhook(
      fake.inboundMediaPayload({
        phoneNumberId: "111",
        from: "+919800000001",
        name: "Asha",
        kind: "image",
        mediaId,
        mimeType: "image/jpeg",
        caption: "My receipt",
      }),
    );
    expect(image).toMatchObject({ events: [{ text: "My receipt", media: { kind: "image" } }] });

    const downloaded = await adapter.downloadMedia!(mediaId);
    expect(downloaded.bytes).toEqual(PDF);
    expect(downloaded.mimeType).toBe("application/pdf");
  });
});
