import {
  action,
  details,
  formatUtc,
  oneLine,
  paragraph,
  renderMail,
  type Block,
  type MailFrame,
  type RenderedMail,
} from "./layout";

/** Privacy request (DSAR) mail: the outcome to the requester, reminders and escalations. */

export interface DsarOutcomeData {
  /** "access", "export", … in words: "Access to your data". */
  requestLabel: string;
  /** One line per business (or the platform) saying what was done, or why it was declined. */
  lines: string[];
  /** Download links of the exports, valid until `linksExpireAt`. */
  downloads: { label: string; url: string }[];
  linksExpireAt: Date | null;
}

export function dsarOutcome(data: DsarOutcomeData & MailFrame): RenderedMail {
  const blocks: Block[] = [
    paragraph(`We have finished your privacy request: ${oneLine(data.requestLabel, 80)}.`),
    ...data.lines.map((line) => paragraph(oneLine(line, 600))),
  ];
  for (const download of data.downloads) {
    blocks.push(action(oneLine(download.label, 80), download.url));
  }
  if (data.downloads.length && data.linksExpireAt) {
    blocks.push(
      paragraph(
        `The download links work until ${formatUtc(data.linksExpireAt)}. Each file is a zip with your data as JSON and CSV.`,
      ),
    );
  }
  return renderMail({
    frame: data,
    subject: "Your privacy request is complete",
    preheader: "What we did with your request.",
    heading: "Your privacy request is complete",
    blocks,
    reason: "You received this because you made a privacy request and confirmed your identity.",
    footer: { kind: "required" },
  });
}

export interface DsarReminderData {
  workspaceName: string;
  requestLabel: string;
  dueAt: Date;
  daysLeft: number;
  url: string;
}

export function dsarReminder(data: DsarReminderData & MailFrame): RenderedMail {
  const workspace = oneLine(data.workspaceName, 80);
  const days = data.daysLeft === 1 ? "1 day" : `${data.daysLeft} days`;
  return renderMail({
    frame: data,
    subject: `A privacy request in ${workspace} is due in ${days}`,
    preheader: `Due ${formatUtc(data.dueAt)}.`,
    heading: `A privacy request is due in ${days}`,
    blocks: [
      paragraph(
        `A privacy request (${oneLine(data.requestLabel, 80)}) about a contact of “${workspace}” must be answered by ${formatUtc(data.dueAt)}. We promise an answer within 30 days: approve it, or decline it with a reason. If it is not answered by then, it is escalated to the platform operator.`,
      ),
      action("Open the request", data.url),
    ],
    reason: `You received this because you are an owner or admin of “${workspace}”.`,
    footer: { kind: "required" },
  });
}

export interface DsarEscalatedData {
  /** The business that has not answered, or "Pleisys Engage (account requests)". */
  holders: string[];
  requestLabel: string;
  receivedAt: Date;
  dueAt: Date;
  url: string;
}

/** To the platform operators, once, when a request passes its due date unanswered. */
export function dsarEscalated(data: DsarEscalatedData & MailFrame): RenderedMail {
  return renderMail({
    frame: data,
    subject: "Overdue privacy request escalated to you",
    preheader: `It was due ${formatUtc(data.dueAt)}.`,
    heading: "A privacy request is overdue",
    blocks: [
      paragraph(
        `A privacy request (${oneLine(data.requestLabel, 80)}) was not answered within the 30 days our privacy policy promises. As the platform operator, see that it is answered now.`,
      ),
      details([
        ["Received", formatUtc(data.receivedAt)],
        ["Was due", formatUtc(data.dueAt)],
        ["Not answered by", data.holders.map((h) => oneLine(h, 80)).join(", ") || "—"],
      ]),
      action("Open overdue requests", data.url),
    ],
    reason: "You received this because you are a platform admin of Pleisys Engage.",
    footer: { kind: "required" },
  });
}
