import {
  action,
  oneLine,
  paragraph,
  plural,
  renderMail,
  type MailFrame,
  type RenderedMail,
} from "./layout";

export interface DsarVerifyData {
  /** The business whose portal the request came through; null for the platform's own. */
  portalName: string | null;
  /** What was asked for, e.g. "a copy of your data". */
  what: string;
  /** The single-use confirmation link. */
  url: string;
  expiresInHours: number;
}

/**
 * Proves that the requester holds the address. Sent for every request, whether or not anyone
 * holds data about the address, so it must not hint either way.
 */
export function dsarVerify(data: DsarVerifyData & MailFrame): RenderedMail {
  const to = data.portalName ? oneLine(data.portalName, 80) : "Pleisys Engage";
  const scope = data.portalName
    ? []
    : [
        paragraph(
          "It covers your Pleisys Engage account, if you have one, and every business using Pleisys Engage that holds data about you.",
        ),
      ];
  return renderMail({
    frame: data,
    subject: `Confirm your privacy request to ${to}`,
    preheader: "Confirm that the request is yours.",
    heading: "Confirm your privacy request",
    blocks: [
      paragraph(`You asked ${to} for ${oneLine(data.what, 120)}, giving this email address.`),
      ...scope,
      paragraph(
        "Confirm that the request is yours: nothing happens until you do. Then you get an answer within 30 days of your request, and you can follow it on its status page.",
      ),
      action("Confirm my request", data.url),
      paragraph(
        `The link works once and expires in ${plural(data.expiresInHours, "hour")}. If you did not make this request, ignore this email: nothing happens.`,
      ),
    ],
    reason: `You received this because this address was given in a privacy request to ${to}.`,
    footer: { kind: "required" },
  });
}
