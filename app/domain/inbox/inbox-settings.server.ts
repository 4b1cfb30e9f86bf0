import { eq } from "drizzle-orm";
import { z } from "zod";
import { conversations, inboxSettings } from "~/db/schema/tenant-inbox";
import { ValidationError, type FieldErrors } from "~/lib/errors";
import { readOnce, type TenantContext, type WorkspaceContext } from "../context";
import { drainAssignmentQueue } from "./assignment.server";

/**
 * The workspace's inbox rules (one row): reopening, auto-assignment and its per-agent cap,
 * business hours and the auto-reply outside them, CSAT, and the AI switches. A workspace that
 * never saved them reads the defaults.
 */

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export const WEEKDAY_LABELS: Record<Weekday, string> = {
  mon: "Monday",
  tue: "Tuesday",
  wed: "Wednesday",
  thu: "Thursday",
  fri: "Friday",
  sat: "Saturday",
  sun: "Sunday",
};

/** Opening ranges per weekday as [start, end) "HH:MM" pairs; a day left out is closed. */
export type BusinessHours = { days: Partial<Record<Weekday, [string, string][]>> };

export interface InboxSettings {
  reopenWithinDays: number;
  autoAssign: boolean;
  agentCapacity: number;
  /** Null: always open (no auto-reply is ever due). */
  businessHours: BusinessHours | null;
  outsideHoursReply: string | null;
  csatEnabled: boolean;
  csatQuestion: string;
  aiEnabled: boolean;
  aiAutoDraft: boolean;
}

export const DEFAULT_CSAT_QUESTION =
  "How would you rate our help? Reply with a number from 1 (poor) to 5 (great).";

export const DEFAULT_INBOX_SETTINGS: InboxSettings = {
  reopenWithinDays: 7,
  autoAssign: false,
  agentCapacity: 10,
  businessHours: null,
  outsideHoursReply: null,
  csatEnabled: false,
  csatQuestion: DEFAULT_CSAT_QUESTION,
  aiEnabled: true,
  aiAutoDraft: false,
};

const MAX_RANGES_PER_DAY = 4;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

export function minutesOf(time: string): number {
  const [h, m] = time.split(":").map(Number);
  return h! * 60 + m!;
}

/**
 * One day's opening hours as people write them: "09:00-13:00, 14:00-18:00" ("–" works too);
 * empty means closed. Ranges must not overlap and end after they start (an evening past
 * midnight is written as two days).
 */
export function parseDayRanges(text: string): { ranges: [string, string][] } | { error: string } {
  const parts = text
    .split(/[,;]/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length > MAX_RANGES_PER_DAY) {
    return { error: `Use at most ${MAX_RANGES_PER_DAY} ranges a day.` };
  }
  const ranges: [string, string][] = [];
  for (const part of parts) {
    const match = /^(\d{1,2}:\d{2})\s*[-–—]\s*(\d{1,2}:\d{2})$/.exec(part);
    const [start, end] = match ? [match[1]!.padStart(5, "0"), match[2]!.padStart(5, "0")] : [];
    if (!start || !end || !TIME.test(start) || !TIME.test(end)) {
      return { error: `“${part}” is not a range like 09:00-17:00 (24-hour clock).` };
    }
    if (minutesOf(end) <= minutesOf(start)) {
      return { error: `${start}-${end} ends before it starts; split a night over two days.` };
    }
    ranges.push([start, end]);
  }
  ranges.sort((a, b) => minutesOf(a[0]) - minutesOf(b[0]));
  for (let i = 1; i < ranges.length; i++) {
    if (minutesOf(ranges[i]![0]) < minutesOf(ranges[i - 1]![1])) {
      return { error: `${ranges[i - 1]!.join("-")} and ${ranges[i]!.join("-")} overlap.` };
    }
  }
  return { ranges };
}

export function formatDayRanges(ranges: readonly [string, string][] | undefined): string {
  return (ranges ?? []).map(([s, e]) => `${s}-${e}`).join(", ");
}

const dayText = z.string().trim().max(200, "That is too long for one day.").optional().default("");

/**
 * What the settings form (and any other caller) sends. Business hours are written per weekday
 * as text ("09:00-17:00, 18:00-20:00"), read by parseDayRanges.
 */
export const InboxSettingsSchema = z.object({
  reopenWithinDays: z
    .number({ error: "Enter a number of days from 0 to 90." })
    .int("Enter whole days.")
    .min(0, "Enter a number of days from 0 to 90.")
    .max(90, "Enter a number of days from 0 to 90."),
  autoAssign: z.boolean().default(false),
  agentCapacity: z
    .number({ error: "Enter a number from 1 to 100." })
    .int("Enter a whole number.")
    .min(1, "Enter a number from 1 to 100.")
    .max(100, "Enter a number from 1 to 100."),
  businessHoursEnabled: z.boolean().default(false),
  hours: z
    .object(
      Object.fromEntries(WEEKDAYS.map((d) => [d, dayText])) as Record<Weekday, typeof dayText>,
    )
    .optional()
    .default({ mon: "", tue: "", wed: "", thu: "", fri: "", sat: "", sun: "" }),
  outsideHoursReply: z
    .string()
    .trim()
    .max(1000, "Keep the auto-reply under 1,000 characters.")
    .optional()
    .default(""),
  csatEnabled: z.boolean().default(false),
  csatQuestion: z
    .string()
    .trim()
    .max(300, "Keep the question under 300 characters.")
    .optional()
    .default(""),
  aiEnabled: z.boolean().default(false),
  aiAutoDraft: z.boolean().default(false),
});
export type InboxSettingsInput = z.input<typeof InboxSettingsSchema>;

function parseBusinessHours(value: z.output<typeof InboxSettingsSchema>, errors: FieldErrors) {
  if (!value.businessHoursEnabled) return null;
  const days: BusinessHours["days"] = {};
  for (const day of WEEKDAYS) {
    const parsed = parseDayRanges(value.hours[day]);
    if ("error" in parsed) errors[`hours.${day}`] = [parsed.error];
    else if (parsed.ranges.length) days[day] = parsed.ranges;
  }
  if (Object.keys(days).length === 0 && Object.keys(errors).length === 0) {
    errors["hours.mon"] = ["Give at least one day opening hours, or turn business hours off."];
  }
  return { days };
}

function fromRow(row: typeof inboxSettings.$inferSelect): InboxSettings {
  let businessHours: BusinessHours | null = null;
  if (row.businessHours) {
    const parsed = JSON.parse(row.businessHours) as BusinessHours;
    businessHours = { days: parsed.days ?? {} };
  }
  return {
    reopenWithinDays: row.reopenWithinDays,
    autoAssign: row.autoAssign,
    agentCapacity: row.agentCapacity,
    businessHours,
    outsideHoursReply: row.outsideHoursReply,
    csatEnabled: row.csatEnabled,
    csatQuestion: row.csatQuestion,
    aiEnabled: row.aiEnabled,
    aiAutoDraft: row.aiAutoDraft,
  };
}

export function readInboxSettings(ctx: TenantContext): InboxSettings {
  return readOnce(ctx, "inbox-settings", () => {
    const row = ctx.db.select().from(inboxSettings).where(eq(inboxSettings.id, 1)).get();
    return row ? fromRow(row) : { ...DEFAULT_INBOX_SETTINGS };
  });
}

/** The form's values for the current settings (the page's defaults, and a base to change). */
export function settingsToInput(settings: InboxSettings): z.output<typeof InboxSettingsSchema> {
  const days = settings.businessHours?.days ?? {};
  return {
    reopenWithinDays: settings.reopenWithinDays,
    autoAssign: settings.autoAssign,
    agentCapacity: settings.agentCapacity,
    businessHoursEnabled: settings.businessHours !== null,
    hours: Object.fromEntries(WEEKDAYS.map((d) => [d, formatDayRanges(days[d])])) as Record<
      Weekday,
      string
    >,
    outsideHoursReply: settings.outsideHoursReply ?? "",
    csatEnabled: settings.csatEnabled,
    csatQuestion: settings.csatQuestion,
    aiEnabled: settings.aiEnabled,
    aiAutoDraft: settings.aiAutoDraft,
  };
}

/**
 * Validates and saves every setting at once; nothing is saved when anything is wrong. Turning
 * auto-assignment off empties the queue; turning it on queues the conversations already
 * waiting without anyone and drains the queue.
 */
export function updateInboxSettings(
  ctx: WorkspaceContext,
  input: InboxSettingsInput,
): InboxSettings {
  const parsed = InboxSettingsSchema.safeParse(input);
  if (!parsed.success) {
    const errors: FieldErrors = {};
    for (const issue of parsed.error.issues) {
      (errors[issue.path.map(String).join(".") || "form"] ??= []).push(issue.message);
    }
    throw new ValidationError(parsed.error.issues[0]?.message ?? "Check the settings.", errors);
  }
  const value = parsed.data;
  const errors: FieldErrors = {};
  const businessHours = parseBusinessHours(value, errors);
  if (value.businessHoursEnabled && !value.outsideHoursReply) {
    errors.outsideHoursReply = ["Write the reply customers get outside business hours."];
  }
  if (value.csatEnabled && !value.csatQuestion) {
    errors.csatQuestion = ["Write the question customers are asked."];
  }
  if (value.aiAutoDraft && !value.aiEnabled) {
    errors.aiAutoDraft = ["Automatic drafts need AI suggestions turned on."];
  }
  if (Object.keys(errors).length > 0) {
    throw new ValidationError(Object.values(errors)[0]![0]!, errors);
  }
  const now = ctx.now();
  const before = readInboxSettings(ctx);
  const row = {
    reopenWithinDays: value.reopenWithinDays,
    autoAssign: value.autoAssign,
    agentCapacity: value.agentCapacity,
    businessHours: businessHours ? JSON.stringify(businessHours) : null,
    outsideHoursReply: value.outsideHoursReply || null,
    csatEnabled: value.csatEnabled,
    csatQuestion: value.csatQuestion || before.csatQuestion,
    aiEnabled: value.aiEnabled,
    aiAutoDraft: value.aiAutoDraft,
    updatedAt: now,
  };
  ctx.db.transaction(
    (tx) => {
      tx.insert(inboxSettings)
        .values({ id: 1, ...row })
        .onConflictDoUpdate({ target: inboxSettings.id, set: row })
        .run();
      if (before.autoAssign && !value.autoAssign) {
        tx.update(conversations).set({ queuedAt: null }).run();
      }
      if (!before.autoAssign && value.autoAssign) {
        // Oldest waiting first, so the queue starts in the order customers wrote.
        ctx.db.$client
          .prepare(
            `UPDATE conversations SET queued_at = waiting_since
             WHERE status = 'open' AND assignee_id IS NULL AND waiting_since IS NOT NULL
               AND queued_at IS NULL`,
          )
          .run();
      }
    },
    { behavior: "immediate" },
  );
  ctx.readCache?.clear();
  if (value.autoAssign) drainAssignmentQueue(ctx);
  return readInboxSettings(ctx);
}
