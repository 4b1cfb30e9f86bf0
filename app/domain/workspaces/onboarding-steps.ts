/** The home checklist's steps, in the order a marketer goes (shared by the page and the server). */
export const ONBOARDING_STEPS = ["contacts", "channel", "template", "campaign", "report"] as const;
export type OnboardingStep = (typeof ONBOARDING_STEPS)[number];
