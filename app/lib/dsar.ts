import { z } from "zod";

/**
 * The privacy request form: the choices, their wording, and the schema the browser
 * and the server validate with. The domain (app/domain/privacy) checks these match its table.
 */

export const DSAR_REQUEST_TYPES = [
  "access",
  "export",
  "correction",
  "erasure",
  "opt_out",
  "child",
] as const;
export type DsarRequestType = (typeof DSAR_REQUEST_TYPES)[number];

export const DSAR_TYPE_LABELS: Record<DsarRequestType, string> = {
  access: "See the data held about me",
  export: "Get a copy of my data to download",
  correction: "Correct my data",
  erasure: "Erase my data",
  opt_out: "Stop all messages to me",
  child: "Delete a child's data",
};

/** How a request reads in a sentence to the person who made it ("You asked … for …"). */
export const DSAR_REQUEST_PHRASES: Record<DsarRequestType, string> = {
  access: "access to the personal data held about you",
  export: "a copy of your personal data",
  correction: "a correction of your personal data",
  erasure: "the erasure of your personal data",
  opt_out: "an opt-out from all messages",
  child: "the deletion of a child's personal data",
};

export const DSAR_TYPE_HINTS: Record<DsarRequestType, string> = {
  access: "A summary of what is held about you and how it is used.",
  export: "Your data as JSON and CSV files in a zip.",
  correction: "Tell us what is wrong and what it should say.",
  erasure: "Your details, messages and conversations are deleted.",
  opt_out: "No more marketing messages on any channel.",
  child: "For data about someone under 18; it is deleted promptly.",
};

export const DSAR_STATUS_LABELS: Record<
  "unverified" | "open" | "completed" | "declined" | "expired",
  string
> = {
  unverified: "Waiting for confirmation",
  open: "In progress",
  completed: "Completed",
  declined: "Declined",
  expired: "Expired (never confirmed)",
};

export const DSAR_TASK_STATUS_LABELS: Record<
  "pending" | "approved" | "declined" | "completed",
  string
> = {
  pending: "Being reviewed",
  approved: "Approved, being carried out",
  declined: "Declined",
  completed: "Done",
};

export const DSAR_DETAILS_MAX = 2000;

const optional = (max: number, message: string) => z.string().trim().max(max, message).optional();

/** What the portal form sends; the domain normalises and checks the identifiers. */
export const DsarRequestForm = z
  .object({
    type: z.enum(DSAR_REQUEST_TYPES, { error: "Choose what you would like us to do." }),
    email: optional(254, "That email address is too long."),
    phone: optional(40, "That phone number is too long."),
    phoneCountry: optional(2, "Choose a country from the list."),
    details: optional(DSAR_DETAILS_MAX, `Use at most ${DSAR_DETAILS_MAX} characters.`),
    optOutScope: z.enum(["all", "one"]).optional(),
    optOutBusiness: optional(300, "Use at most 300 characters."),
  })
  .superRefine((value, ctx) => {
    if (!value.email && !value.phone) {
      ctx.addIssue({
        code: "custom",
        path: ["email"],
        message: "Enter your email address or your phone number (or both).",
      });
    }
    if (value.type === "correction" && !value.details) {
      ctx.addIssue({
        code: "custom",
        path: ["details"],
        message: "Tell us what is wrong and what it should say.",
      });
    }
  });

/** The code-entry form. */
export const DsarCodeForm = z.object({
  code: z
    .string({ error: "Enter the 6-digit code from the text message." })
    .trim()
    .min(1, "Enter the 6-digit code from the text message.")
    .max(20, "Enter the 6-digit code from the text message."),
});

/**
 * What a portal that has no way to text a code says to phone-only requesters: on the form
 * before they submit, and as the refusal if they submit anyway.
 */
export const PHONE_ONLY_UNAVAILABLE =
  "We cannot text a confirmation code from this page, so a request with only a phone number cannot be confirmed here. Add your email address, or send your request in writing to privacy@pleisys.com.";
