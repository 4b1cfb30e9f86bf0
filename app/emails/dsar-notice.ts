import {
  action,
  oneLine,
  paragraph,
  renderMail,
  type MailFrame,
  type RenderedMail,
} from "./layout";

export interface DsarNoticeData {
  subject: string;
  heading: string;
  paragraphs: string[];
  /** The business the requester asked, or "Pleisys Engage" for the platform's own form. */
  askedName: string;
  /** The requester's signed status page. */
  statusUrl?: string;
}

/** A message to a verified privacy requester: confirmation or outcome. */
export function dsarNotice(data: DsarNoticeData & MailFrame): RenderedMail {
  const blocks = data.paragraphs.map((text) => paragraph(text));
  if (data.statusUrl) blocks.push(action("See your request", data.statusUrl));
  return renderMail({
    frame: data,
    subject: oneLine(data.subject, 150),
    preheader: oneLine(data.heading, 150),
    heading: data.heading,
    blocks,
    reason: `You received this because you made a privacy request to ${oneLine(data.askedName, 80)}.`,
    footer: { kind: "required" },
  });
}
