import { inboxMinutely as runInboxMinutely } from "~/domain/inbox/snooze.server";
import type { Job } from "./job";

export const inboxMinutely: Job = {
  name: "inbox-minutely",
  schedule: "* * * * *",
  description:
    "Wake snoozed conversations whose time came and hand queued conversations to online agents, every minute",
  maxRunMs: 55 * 1000,
  async run({ now }) {
    return runInboxMinutely(now());
  },
};
