import { z } from "zod";

/** Trimmed and lower-cased; the one form in which addresses are stored and compared. */
export function normaliseEmail(input: string): string {
  return input.trim().toLowerCase();
}

export const emailSchema = z
  .string({ error: "Enter your email address." })
  .trim()
  .min(1, "Enter your email address.")
  .max(254, "That email address is too long.")
  .pipe(z.email({ error: "Enter a valid email address, like name@example.com." }))
  .transform(normaliseEmail);
