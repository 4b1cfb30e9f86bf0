import { describe, expect, it } from "vitest";
import { composeServiceMessage } from "./service-message.server";

/** The contact page's composer input becomes the content each channel's adapter sends. */
describe("composeServiceMessage", () => {
  it("sends an email's text as typed, and as HTML with markup escaped and line breaks kept", () => {
    expect(
      composeServiceMessage({
        channel: "email",
        emailSubject: "Your order",
        emailBody: `Hi <Asha> & "co",\r\nit's ready.\nBye`,
      }),
    ).toEqual({
      channel: "email",
      subject: "Your order",
      text: `Hi <Asha> & "co",\r\nit's ready.\nBye`,
      html: "Hi &lt;Asha&gt; &amp; &quot;co&quot;,<br>\nit&#39;s ready.<br>\nBye",
    });
  });

  it("sends WhatsApp free text as a text message", () => {
    expect(
      composeServiceMessage({
        channel: "whatsapp",
        whatsappType: "text",
        whatsappText: "On its way",
        whatsappTemplate: "ignored",
      }),
    ).toEqual({ channel: "whatsapp", type: "text", text: "On its way" });
  });

  it("sends a WhatsApp template with one body parameter per non-empty line, in order", () => {
    expect(
      composeServiceMessage({
        channel: "whatsapp",
        whatsappType: "template",
        whatsappTemplate: "order_ready",
        whatsappLanguage: "hi",
        whatsappParams: " Asha \r\n\n#1042\n  ",
        whatsappText: "ignored",
      }),
    ).toEqual({
      channel: "whatsapp",
      type: "template",
      name: "order_ready",
      language: "hi",
      bodyParams: ["Asha", "#1042"],
    });
  });

  it("uses English when a template's language is left empty, and no parameters when none", () => {
    expect(
      composeServiceMessage({
        channel: "whatsapp",
        whatsappType: "template",
        whatsappTemplate: "hello_world",
        whatsappLanguage: "",
      }),
    ).toEqual({
      channel: "whatsapp",
      type: "template",
      name: "hello_world",
      language: "en",
      bodyParams: [],
    });
  });

  it("sends SMS and Telegram text as typed", () => {
    expect(composeServiceMessage({ channel: "sms", smsText: "Code <1234>" })).toEqual({
      channel: "sms",
      text: "Code <1234>",
    });
    expect(composeServiceMessage({ channel: "telegram", telegramText: "Hi & bye" })).toEqual({
      channel: "telegram",
      text: "Hi & bye",
    });
  });
});
