import { contactsHousekeeping } from "~/domain/contacts/housekeeping.server";
import type { Job } from "./types";

export const contactsHousekeepingJob: Job = {
  name: "contacts-housekeeping",
  schedule: "17 3 * * *",
  description:
    "Delete rejected-row details 30 days after an import, and expired export files, daily",
  maxRunMs: 60 * 60 * 1000,
  async run({ now }) {
    return contactsHousekeeping(now());
  },
};
