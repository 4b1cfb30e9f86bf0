import type { SubmissionResult } from "@conform-to/react";

/**
 * What every action sends back when a form fails: conform's reply (errors per field, "" for
 * the whole form, and what was typed so nothing is lost), plus `extra` for the few pages that
 * need more beside it (a builder's state, the contact a duplicate belongs to).
 */
export type FormResult<X = never> = SubmissionResult<string[]> & { extra?: X };

/** The result when it answers the form that posted `intent`, for pages with several forms. */
export function resultFor<X>(
  result: FormResult<X> | undefined,
  intent: string,
): FormResult<X> | undefined {
  return result?.initialValue?.intent === intent ? result : undefined;
}

/** Every message in a result, for forms that show their errors together. */
export function resultMessages(result: FormResult<unknown> | undefined): string[] {
  return Object.values(result?.error ?? {}).flatMap((m) => m ?? []);
}

/** The errors that belong to fields (not the whole form), for components that take a map. */
export function fieldErrorsOf(result: FormResult<unknown> | undefined): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  for (const [name, messages] of Object.entries(result?.error ?? {})) {
    if (name !== "" && messages?.length) errors[name] = messages;
  }
  return errors;
}

/** The message for the whole form, if the reply has one. */
export function formErrorOf(result: FormResult<unknown> | undefined): string | null {
  return result?.error?.[""]?.[0] ?? null;
}

/** What was typed into the form that failed, so nothing is lost. */
export function submittedOf(result: FormResult<unknown> | undefined): Record<string, unknown> {
  return (result?.initialValue ?? {}) as Record<string, unknown>;
}

/**
 * Errors of a submission whose row is not on this page (or has no form of its own), to show at
 * the top of a list instead of beside a row.
 */
export function unplacedErrors<R>(
  result: SubmissionResult | undefined,
  rows: R[],
  hasForm: (row: R) => boolean,
): string[] {
  if (!result?.error || rows.some(hasForm)) return [];
  return Object.values(result.error).flatMap((messages) => messages ?? []);
}
