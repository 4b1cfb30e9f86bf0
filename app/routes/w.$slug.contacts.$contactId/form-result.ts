import type { SubmissionResult } from "@conform-to/react";

/** What a form on this page got back from the action, when it was the one submitted. */
export type FormResult = SubmissionResult<string[]> | undefined;

/** Every message of a form result, field or form-level, in one list. */
export function errorMessages(result: FormResult): string[] {
  return Object.values(result?.error ?? {}).flatMap((m) => m ?? []);
}
