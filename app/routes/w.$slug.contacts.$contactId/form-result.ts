import type { SubmissionResult } from "@conform-to/react";

/** What the action sends back when a form on this page fails (conform's reply). */
export type FormResult = SubmissionResult<string[]>;

/** The result when it answers the form that posted `intent`: this page has several. */
export function resultFor(result: FormResult | undefined, intent: string): FormResult | undefined {
  return result?.initialValue?.intent === intent ? result : undefined;
}

/** Every message in a result, for forms that show their errors together. */
export function resultMessages(result: FormResult | undefined): string[] {
  return Object.values(result?.error ?? {}).flatMap((m) => m ?? []);
}
