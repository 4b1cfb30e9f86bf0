import { z } from "zod";
import type { ServiceMessageInput } from "~/domain/delivery/service-message.server";
import { CHANNELS } from "~/lib/channels";

/** The forms on the contact page: one schema per intent (the route's NEEDS lists the intents). */

const id = (what: string) =>
  z.coerce
    .number({ error: `Choose ${what}.` })
    .int(`Choose ${what}.`)
    .positive(`Choose ${what}.`)
    .max(Number.MAX_SAFE_INTEGER, `Choose ${what}.`);

export const Consent = z.object({
  channel: z.enum(CHANNELS, { error: "Choose a channel." }),
  status: z.enum(["granted", "withdrawn"], { error: "Choose granted or withdrawn." }),
  source: z.string().max(200, "Keep the source under 200 characters.").optional(),
});
export const AddTag = z.object({
  name: z
    .string({ error: "Type a tag." })
    .trim()
    .min(1, "Type a tag.")
    .max(60, "Use at most 60 characters."),
});
export const RemoveTag = z.object({ tagId: id("a tag") });
export const AddList = z.object({ listId: id("a list") });
export const RemoveList = z.object({ listId: id("a list") });
export const Delete = z.object({ erase: z.literal("on").optional() });
/** The Telegram link button carries nothing but its intent. */
export const TelegramLink = z.object({});

const required = (what: string, max: number) =>
  z
    .string({ error: `Write the ${what}.` })
    .trim()
    .min(1, `Write the ${what}.`)
    .max(max, `Keep the ${what} under ${max.toLocaleString("en")} characters.`);

export const Send = z
  .discriminatedUnion(
    "channel",
    [
      z.object({
        channel: z.literal("email"),
        emailSubject: required("subject", 200),
        emailBody: required("email text", 20_000),
      }),
      z.object({
        channel: z.literal("whatsapp"),
        whatsappType: z.enum(["text", "template"], { error: "Choose text or template." }),
        whatsappText: z
          .string()
          .trim()
          .max(4096, "Keep the text under 4,096 characters.")
          .optional(),
        whatsappTemplate: z
          .string()
          .trim()
          .max(512, "Template names are at most 512 characters.")
          .optional(),
        whatsappLanguage: z.string().trim().max(16).optional(),
        whatsappParams: z.string().max(10_000, "Keep the parameters shorter.").optional(),
      }),
      z.object({ channel: z.literal("sms"), smsText: required("SMS text", 1600) }),
      z.object({ channel: z.literal("telegram"), telegramText: required("message", 4096) }),
    ],
    { error: "Choose a channel." },
  )
  .superRefine((value, ctx) => {
    if (value.channel !== "whatsapp") return;
    if (value.whatsappType === "text") {
      if (!value.whatsappText) {
        ctx.addIssue({ code: "custom", path: ["whatsappText"], message: "Write the text." });
      }
      return;
    }
    if (!value.whatsappTemplate || !/^[a-z0-9_]+$/.test(value.whatsappTemplate)) {
      ctx.addIssue({
        code: "custom",
        path: ["whatsappTemplate"],
        message: "Enter the template's name as approved by Meta: lower-case letters, digits, _.",
      });
    }
    if (value.whatsappLanguage && !/^[a-z]{2,3}(_[A-Z]{2})?$/.test(value.whatsappLanguage)) {
      ctx.addIssue({
        code: "custom",
        path: ["whatsappLanguage"],
        message: "Enter a language code such as en, hi or en_US.",
      });
    }
  }) satisfies z.ZodType<ServiceMessageInput>;
