import { z } from "zod";
import type { AppError } from "~/lib/errors";
import { DuplicateContactError } from "./contacts.server";

/** The contact forms' shape only; the contacts domain normalises and validates every value. */
export const ContactFormSchema = z.object({
  name: z.string().max(200, "Use at most 200 characters.").optional(),
  email: z.string().max(254, "That email address is too long.").optional(),
  phone: z.string().max(40, "That phone number is too long.").optional(),
  attributes: z.record(z.string(), z.string().max(1000, "Too long.").optional()).optional(),
});

/** The contact that already has a submitted email or phone number, sent back beside the form. */
export interface DuplicateContact {
  field: "email" | "phone";
  contactId: number;
}

/** The contact forms' `extra`: which other contact a duplicate email or phone belongs to. */
export function duplicateContactOf(error: AppError | null): DuplicateContact | undefined {
  if (!(error instanceof DuplicateContactError)) return undefined;
  return { field: error.field, contactId: error.existingId };
}
