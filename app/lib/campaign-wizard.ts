/**
 * The new-campaign wizard's steps and the answers it carries from step to step (in the URL of
 * each step and in hidden fields of its form), shared by the server and the page.
 */

export const WIZARD_STEPS = ["channel", "audience", "template", "schedule"] as const;
export type WizardStep = (typeof WIZARD_STEPS)[number];

export const WIZARD_STEP_LABELS: Record<WizardStep | "review", string> = {
  channel: "Channel",
  audience: "Audience",
  template: "Template",
  schedule: "Schedule",
  review: "Review and send",
};

/** The fields each step asks for; everything else on its form is a carried answer. */
export const STEP_FIELDS: Record<WizardStep, readonly string[]> = {
  channel: ["name", "channel"],
  audience: ["audience"],
  template: [
    "templateA",
    "abTest",
    "templateB",
    "templateC",
    "templateD",
    "samplePercent",
    "metric",
    "decideAfterMinutes",
  ],
  schedule: ["when", "date", "time", "throttle"],
};

export const ANSWER_FIELDS: readonly string[] = WIZARD_STEPS.flatMap((s) => STEP_FIELDS[s]);

export type WizardAnswers = Partial<Record<string, string>>;

export function isWizardStep(value: unknown): value is WizardStep {
  return typeof value === "string" && (WIZARD_STEPS as readonly string[]).includes(value);
}

/** The known answers of a query string or a form, nothing else. */
export function readAnswers(source: URLSearchParams | FormData): WizardAnswers {
  const answers: WizardAnswers = {};
  for (const field of ANSWER_FIELDS) {
    const value = source.get(field);
    if (typeof value === "string" && value !== "") answers[field] = value.slice(0, 500);
  }
  return answers;
}

/** The URL of a step with the answers so far (reload and Back keep them); `draft`: editing it. */
export function stepUrl(
  base: string,
  step: WizardStep,
  answers: WizardAnswers,
  draft: number | null = null,
): string {
  const params = new URLSearchParams({ step });
  for (const field of ANSWER_FIELDS) {
    const value = answers[field];
    if (value) params.set(field, value);
  }
  if (draft !== null) params.set("draft", String(draft));
  return `${base}?${params.toString()}`;
}

export const AB_METRICS = ["delivered", "read", "opened", "clicked", "replied"] as const;
export const AB_METRIC_LABELS: Record<(typeof AB_METRICS)[number], string> = {
  delivered: "Delivered rate",
  read: "Read rate",
  opened: "Opened rate",
  clicked: "Clicked rate",
  replied: "Replied rate",
};
