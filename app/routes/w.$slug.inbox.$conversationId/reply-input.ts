import type { ServiceMessageInput } from "~/domain/delivery/service-message.server";
import type { Channel } from "~/lib/channels";

/** The composer's text as the channel's service message (WhatsApp: free text). */
export function replyInput(
  channel: Channel,
  value: { text: string; subject?: string },
): ServiceMessageInput {
  switch (channel) {
    case "email":
      // Blank: the domain answers with the conversation's own subject ("Re: ...").
      return { channel, emailSubject: value.subject?.trim() ?? "", emailBody: value.text };
    case "whatsapp":
      return { channel, whatsappType: "text", whatsappText: value.text };
    case "sms":
      return { channel, smsText: value.text };
    case "telegram":
      return { channel, telegramText: value.text };
  }
}
