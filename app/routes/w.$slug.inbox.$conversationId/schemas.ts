import { z } from "zod";

/** The conversation page's forms. */

export const Reply = z.object({
  text: z
    .string({ error: "Write a reply." })
    .trim()
    .min(1, "Write a reply.")
    .max(4096, "Use at most 4,096 characters."),
  subject: z.string().trim().max(150, "Use at most 150 characters.").optional(),
});

export const TemplateReply = z.object({
  templateName: z
    .string({ error: "Choose a template." })
    .trim()
    .regex(/^[a-z0-9_]{1,512}$/, "Choose a template from the list."),
  language: z
    .string()
    .trim()
    .regex(/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/, "Choose a template from the list."),
  params: z.string().max(4000, "The parameters are too long.").optional(),
});

export const SNOOZE_CHOICES = {
  "1h": { label: "1 hour", ms: 60 * 60_000 },
  "4h": { label: "4 hours", ms: 4 * 60 * 60_000 },
  "1d": { label: "1 day", ms: 24 * 60 * 60_000 },
  "1w": { label: "1 week", ms: 7 * 24 * 60 * 60_000 },
  reply: { label: "Until the customer replies", ms: null },
} as const;

export const Status = z.object({
  status: z.enum(["open", "pending", "snoozed", "resolved"], {
    error: "Choose open, pending, snoozed or resolved.",
  }),
  snooze: z
    .enum(Object.keys(SNOOZE_CHOICES) as [keyof typeof SNOOZE_CHOICES], {
      error: "Choose how long to snooze.",
    })
    .optional(),
});

/** "" in a select means nobody / no team. */
const emptyIsNull = (v: unknown) => (v === "" || v === undefined ? null : v);

export const Assign = z.object({
  assigneeId: z.preprocess(emptyIsNull, z.string().trim().max(64).nullable()),
});

export const SetTeam = z.object({
  teamId: z.preprocess(
    emptyIsNull,
    z.coerce.number({ error: "Choose a team." }).int().positive("Choose a team.").nullable(),
  ),
});

export const LabelChange = z.object({
  labelId: z.coerce.number({ error: "Choose a label." }).int().positive("Choose a label."),
});

export const Note = z.object({
  body: z
    .string({ error: "Write the note first." })
    .trim()
    .min(1, "Write the note first.")
    .max(5000, "Keep a note under 5,000 characters."),
});
