/**
 * Why an open or a click was not counted (machine-engagement.server.ts decides), in words for
 * the contact's timeline. Kept apart from the classifier so a page can show them.
 */
export const NOT_COUNTED_REASONS = {
  "head-request": "a HEAD request (a link checker, not a person)",
  prefetch: "a browser prefetch, not a visit",
  "our-app": "a view inside Pleisys Engage",
  "no-user-agent": "a request with no browser name (a script or scanner)",
  bot: "a known bot or crawler",
  "link-scanner": "a mail security scanner checking the link",
  "privacy-proxy": "a mail app that loads every image in advance (Apple Mail Privacy Protection)",
  "too-soon": "too soon after sending for a person to have clicked (a scanner)",
} as const;
export type NotCountedReason = keyof typeof NOT_COUNTED_REASONS;
