import { formatCalendarDay } from "~/lib/format";
import {
  action,
  oneLine,
  paragraph,
  renderMail,
  type MailFrame,
  type RenderedMail,
} from "./layout";

export interface PolicyChangedData {
  name: string;
  version: number;
  /** YYYY-MM-DD, the day the new version takes effect. */
  effectiveDate: string;
  /** Where the new version can be read. */
  url: string;
}

/**
 * The notice policy §9 promises: sent to every registered user when a new version is published,
 * at least 14 days before it takes effect. Required mail: opting out of optional mail does not
 * stop a notice about the terms the account is held under.
 */
export function policyChanged(data: PolicyChangedData & MailFrame): RenderedMail {
  const name = oneLine(data.name, 80);
  const day = formatCalendarDay(data.effectiveDate);
  return renderMail({
    frame: data,
    subject: `Our privacy policy changes on ${day}`,
    preheader: `Version ${data.version} of the Pleisys Engage privacy policy takes effect on ${day}.`,
    heading: "Our privacy policy is changing",
    blocks: [
      paragraph(name ? `Hi ${name},` : "Hi,"),
      paragraph(
        `We have published version ${data.version} of the Pleisys Engage privacy policy. It takes effect on ${day}; until then the current version applies.`,
      ),
      action("Read what changes", data.url),
      paragraph(
        "If you have questions, or do not agree with the changes, write to privacy@pleisys.com before that date. You can close your account at any time from your account settings.",
      ),
    ],
    reason: "You received this because you have a Pleisys Engage account.",
    footer: { kind: "required" },
  });
}
