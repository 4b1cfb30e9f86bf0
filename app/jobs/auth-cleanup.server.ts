import { purgeExpiredAuthData } from "~/domain/accounts/cleanup.server";
import type { Job } from "./job";

export const authCleanup: Job = {
  name: "auth-cleanup",
  schedule: "41 * * * *",
  description:
    "Delete ended sessions, spent email-link tokens, old invitations and abuse counters, hourly",
  async run({ now }) {
    return purgeExpiredAuthData(now());
  },
};
