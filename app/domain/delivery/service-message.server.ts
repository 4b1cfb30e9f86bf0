import type { MessageContent } from "~/channels/types";
import { escapeHtml } from "~/lib/html";

/**
 * A one-off service message as a person writes it on a contact's page: one channel's fields,
 * already validated (lengths, template name and language format). The email is plain text.
 */
export type ServiceMessageInput =
  | { channel: "email"; emailSubject: string; emailBody: string }
  | {
      channel: "whatsapp";
      whatsappType: "text" | "template";
      whatsappText?: string;
      whatsappTemplate?: string;
      whatsappLanguage?: string;
      /** Template body parameters, one per line, in order. */
      whatsappParams?: string;
    }
  | { channel: "sms"; smsText: string }
  | { channel: "telegram"; telegramText: string };

/** What the outbox sends for the composer's input. */
export function composeServiceMessage(input: ServiceMessageInput): MessageContent {
  switch (input.channel) {
    case "email":
      return {
        channel: "email",
        subject: input.emailSubject,
        text: input.emailBody,
        // The person typed text, not markup: shown as typed, line breaks kept.
        html: escapeHtml(input.emailBody).replace(/\r?\n/g, "<br>\n"),
      };
    case "whatsapp":
      return input.whatsappType === "text"
        ? { channel: "whatsapp", type: "text", text: input.whatsappText ?? "" }
        : {
            channel: "whatsapp",
            type: "template",
            name: input.whatsappTemplate ?? "",
            language: input.whatsappLanguage || "en",
            bodyParams: (input.whatsappParams ?? "")
              .split(/\r?\n/)
              .map((p) => p.trim())
              .filter(Boolean),
          };
    case "sms":
      return { channel: "sms", text: input.smsText };
    case "telegram":
      return { channel: "telegram", text: input.telegramText };
  }
}
