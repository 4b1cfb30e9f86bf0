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
  /** Whom the requester asked: the business's name, or "Pleisys Engage" for the platform form. */
  askedName: string;
  /** What they asked for, as a phrase to them: "a copy of your personal data". */
  what: string;
  /** Every business (or the platform) declined: the request is closed, nothing was done. */
  declined: boolean;
  /** One line per business (or the platform) saying what was done, or why it was declined. */
  lines: string[];
  /** Download links of the exports, valid until `linksExpireAt`. */
  downloads: { label: string; url: string }[];
  linksExpireAt: Date | null;
}

/** To the requester when every business they asked has answered: done, declined or both. */
export function dsarOutcome(data: DsarOutcomeData & MailFrame): RenderedMail {
  const asked = oneLine(data.askedName, 80);
  const blocks: Block[] = [
    paragraph(
      data.declined
        ? `You asked ${asked} for ${oneLine(data.what, 120)}. Your request was declined, and it is now closed:`
        : `You asked ${asked} for ${oneLine(data.what, 120)}. Here is what was done:`,
    ),
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
    subject: data.declined
      ? `Your privacy request to ${asked} was declined`
      : data.downloads.length
        ? `Your data from ${asked} is ready to download`
        : `Your privacy request to ${asked} is complete`,
    preheader: "What was done with your request.",
    heading: data.declined
      ? "Your privacy request was declined"
      : data.downloads.length
        ? "Your data is ready to download"
        : "Your privacy request is complete",
    blocks,
    reason: `You received this because you made a privacy request to ${asked} and confirmed your identity.`,
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

export interface DsarArrivedData {
  workspaceName: string;
  requestLabel: string;
  /** Approved automatically (the workspace's setting): nothing to decide, only to know. */
  decided: boolean;
  dueAt: Date;
  url: string;
}

/** To owners and admins, once per request, when a confirmed request names their workspace. */
export function dsarArrived(data: DsarArrivedData & MailFrame): RenderedMail {
  const workspace = oneLine(data.workspaceName, 80);
  const label = oneLine(data.requestLabel, 80);
  return renderMail({
    frame: data,
    subject: data.decided
      ? `A privacy request in ${workspace} was approved automatically`
      : `New privacy request in ${workspace}: answer by ${formatUtc(data.dueAt)}`,
    preheader: data.decided ? "It is carried out without you." : `Due ${formatUtc(data.dueAt)}.`,
    heading: "A new privacy request",
    blocks: [
      paragraph(
        data.decided
          ? `A person who confirmed their identity asked “${workspace}” for: ${label}. Your workspace approves these automatically, so it is being carried out; the request page shows the result.`
          : `A person who confirmed their identity asked “${workspace}” for: ${label}. It must be answered by ${formatUtc(data.dueAt)}: approve it, or decline it with a reason.`,
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
