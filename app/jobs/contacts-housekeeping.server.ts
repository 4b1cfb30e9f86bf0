import { contactsHousekeeping as housekeepContacts } from "~/domain/contacts/housekeeping.server";
import type { Job } from "./job";

export const contactsHousekeeping: Job = {
  name: "contacts-housekeeping",
  schedule: "17 3 * * *",
  description:
    "Delete rejected-row details 30 days after an import, and expired export files, daily",
  maxRunMs: 60 * 60 * 1000,
  async run({ now }) {
    return housekeepContacts(now());
  },
};
