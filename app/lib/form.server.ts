import { parseWithZod } from "@conform-to/zod/v4";
import { data } from "@remix-run/node";
import type { z } from "zod";
import { AppError, RateLimitedError, ValidationError } from "./errors";

/** Form fields whose values are never sent back to the browser. */
const SECRET_FIELDS = ["password", "current", "newPassword", "code", "website"];

/**
 * Parses a form with its zod schema (conform) and runs the action with the typed value.
 * Invalid input, and typed errors thrown by the domain (validation, wrong password, rate
 * limits), come back as the form's errors with a 4xx status, so the same page re-renders with
 * the messages next to the fields, with and without JavaScript. Anything else propagates.
 * `hideFields` names more fields whose values must not come back (e.g. provider credentials).
 */
export async function submitForm<S extends z.ZodType, R>(
  formData: FormData,
  schema: S,
  run: (value: z.output<S>) => Promise<R> | R,
  options: { hideFields?: readonly string[] } = {},
) {
  const hideFields = [...SECRET_FIELDS, ...(options.hideFields ?? [])];
  const submission = parseWithZod(formData, { schema });
  if (submission.status !== "success") {
    return data(submission.reply({ hideFields }), { status: 400 });
  }
  try {
    return await run(submission.value);
  } catch (error) {
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    // 404 and 403 stay page-level: the thing is not there, or not theirs.
    if (error.status === 404 || error.status === 403) throw error;
    const headers = new Headers();
    if (error instanceof RateLimitedError) {
      headers.set("Retry-After", String(error.retryAfterSeconds));
    }
    const fieldErrors = error instanceof ValidationError ? error.fieldErrors : {};
    const onFields = Object.keys(fieldErrors).length > 0;
    return data(
      submission.reply({
        formErrors: onFields ? [] : [error.message],
        fieldErrors,
        hideFields,
      }),
      { status: error.status, headers },
    );
  }
}

/**
 * Public forms carry a field that people never see or fill in (hidden with CSS and from
 * assistive tech); bots that fill every field give themselves away.
 */
export const HONEYPOT_FIELD = "website";

export function isHoneypotFilled(formData: FormData): boolean {
  const value = formData.get(HONEYPOT_FIELD);
  return typeof value === "string" && value.length > 0;
}
