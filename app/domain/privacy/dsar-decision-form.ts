import { z } from "zod";
import { ValidationError } from "~/lib/errors";
import type { CorrectionInput } from "./dsar-fulfil.server";

/**
 * The decision forms of a privacy task (components/dsar-task.tsx), shared by the workspace
 * queue and the admin queue. Each form is its own `intent`; destructive ones need a ticked
 * confirmation. Only shapes the fields: the rules (reasons required, valid corrected values) are the domain's, whose errors come back keyed by these names. Pure.
 */

const confirmed = z.literal("on", { error: "Tick the box above the button to confirm." });

const optionalText = (max: number) =>
  z.string().trim().max(max, `Use at most ${max} characters.`).optional().default("");

export const DecisionForm = z.discriminatedUnion("intent", [
  z.object({
    intent: z.literal("approve"),
    confirm: confirmed,
    name: optionalText(200),
    email: optionalText(254),
    phone: optionalText(40),
    attributes: optionalText(5000),
    contactId: z
      .string()
      .regex(/^\d{0,15}$/, "Choose a contact from the list.")
      .optional()
      .default(""),
  }),
  z.object({
    intent: z.literal("decline"),
    confirm: confirmed,
    reason: z.string().optional().default(""),
  }),
]);

export type Decision = z.output<typeof DecisionForm>;

/**
 * "key = value" (or "key: value") per line, as typed in the correction form; blank lines are
 * skipped, a line without a separator is a mistake the person must fix.
 */
export function parseAttributeLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^([A-Za-z][\w]*)\s*[:=]\s*(.*)$/.exec(line);
    if (!m) {
      const message = `Write each attribute as “key = value”; this line is not: ${line.slice(0, 60)}`;
      throw new ValidationError(message, { attributes: [message] });
    }
    out[m[1]!.toLowerCase()] = m[2]!.trim();
  }
  return out;
}

export function correctionFrom(value: Extract<Decision, { intent: "approve" }>): CorrectionInput {
  return {
    name: value.name,
    email: value.email,
    phone: value.phone,
    attributes: parseAttributeLines(value.attributes),
    contactId: value.contactId ? Number(value.contactId) : undefined,
  };
}
