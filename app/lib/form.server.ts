import type { SubmissionResult } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import { data } from "@remix-run/node";
import { z } from "zod";
import { AppError, RateLimitedError, ValidationError } from "./errors";
import type { FormResult } from "./form-result";

/** Form fields whose values are never sent back to the browser. */
const SECRET_FIELDS = ["password", "current", "newPassword", "code", "website"];

export type { FormResult } from "./form-result";

interface SubmitOptions<X> {
  /** More fields whose values must not come back (e.g. provider credentials). */
  hideFields?: readonly string[];
  /**
   * Data to send back beside a failed form's errors; `error` is the typed error the action
   * threw, or null when the input itself was invalid.
   */
  extra?: (error: AppError | null, formData: FormData) => X | undefined;
}

/**
 * Parses a form with its zod schema (conform) and runs the action with the typed value.
 * Invalid input, and typed errors thrown by the domain (validation, wrong password, rate
 * limits), come back as the form's errors with a 4xx status, so the same page re-renders with
 * the messages next to the fields, with and without JavaScript. Anything else propagates.
 */
export async function submitForm<S extends z.ZodType, R, X = never>(
  formData: FormData,
  schema: S,
  run: (value: z.output<S>) => Promise<R> | R,
  options: SubmitOptions<X> = {},
) {
  const hideFields = [...SECRET_FIELDS, ...(options.hideFields ?? [])];
  const submission = parseWithZod(formData, { schema });
  if (submission.status !== "success") {
    const extra = options.extra?.(null, formData);
    const reply: FormResult<X> = submission.reply({ hideFields });
    return data(extra === undefined ? reply : { ...reply, extra }, { status: 400 });
  }
  try {
    return await run(submission.value);
  } catch (error) {
    const failure = asFormFailure(error);
    const extra = options.extra?.(failure, formData);
    const fieldErrors = failure instanceof ValidationError ? failure.fieldErrors : {};
    const onFields = Object.keys(fieldErrors).length > 0;
    const reply: FormResult<X> = submission.reply({
      formErrors: onFields ? [] : [failure.message],
      fieldErrors,
      hideFields,
    });
    return data(extra === undefined ? reply : { ...reply, extra }, {
      status: failure.status,
      headers: failureHeaders(failure),
    });
  }
}

/**
 * The typed errors a form shows beside itself. Anything else is rethrown: 5xx and unknown
 * errors go to the host, and 404 / 403 stay page-level (the thing is not there, or not theirs).
 */
function asFormFailure(error: unknown, showForbidden = false): AppError {
  if (!(error instanceof AppError) || error.status >= 500) throw error;
  if (error.status === 404 || (error.status === 403 && !showForbidden)) throw error;
  return error;
}

function failureHeaders(error: AppError): Headers {
  const headers = new Headers();
  if (error instanceof RateLimitedError) {
    headers.set("Retry-After", String(error.retryAfterSeconds));
  }
  return headers;
}

/**
 * A whole-form failure for actions that cannot go through `submitForm` (a streamed upload, a
 * form whose fields only the domain understands): the same reply shape and statuses. `cause`
 * is a typed error (rethrown unless a form can show it) or a message with its status.
 * `fields` are what was typed, sent back so nothing is lost. `showForbidden` keeps a 403 on
 * the form, for refusals that depend on the thing rather than the role (approving one's own
 * campaign).
 */
export function formFailure<X = never>(
  cause: unknown,
  options: {
    status?: number;
    fields?: Record<string, unknown>;
    extra?: X;
    showForbidden?: boolean;
  } = {},
) {
  const failure =
    typeof cause === "string"
      ? new AppError(cause, options.status ?? 400, "form_failed")
      : asFormFailure(cause, options.showForbidden);
  const fieldErrors = failure instanceof ValidationError ? failure.fieldErrors : {};
  const onFields = Object.keys(fieldErrors).some((k) => k !== "form");
  const reply: FormResult<X> = {
    status: "error",
    initialValue: (options.fields ?? null) as SubmissionResult["initialValue"],
    error: onFields ? fieldErrors : { "": [fieldErrors.form?.[0] ?? failure.message] },
  };
  return data(options.extra === undefined ? reply : { ...reply, extra: options.extra }, {
    status: failure.status,
    headers: failureHeaders(failure),
  });
}

/** The one answer to a form that names an action the page does not have. */
export const UNKNOWN_INTENT = "This form asked for something the page does not do.";

/**
 * The `intent` a multi-action form posted, checked against the page's intents (usually its
 * `NEEDS` map of intent to permission, so an intent cannot exist without a permission).
 * Anything else is a 400 with a clear message, before any work is done.
 */
export function readIntent<K extends string>(
  formData: FormData,
  intents: Readonly<Record<K, unknown>>,
  fallback?: NoInfer<K>,
): K {
  const keys = Object.keys(intents) as [K, ...K[]];
  const raw = formData.get("intent") ?? fallback;
  const parsed = z.enum(keys).safeParse(raw);
  if (!parsed.success) throw data({ message: UNKNOWN_INTENT }, { status: 400 });
  return parsed.data as K;
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
