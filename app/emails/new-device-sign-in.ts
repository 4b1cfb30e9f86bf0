import {
  action,
  details,
  formatUtc,
  oneLine,
  paragraph,
  renderMail,
  type MailFrame,
  type RenderedMail,
} from "./layout";

export interface NewDeviceSignInData {
  name: string;
  at: Date;
  ip: string;
  /** What the browser said it was; attacker-controlled text. */
  userAgent: string;
  /** Where the user reviews and revokes sessions. */
  url: string;
}

/**
 * An optional security notice (category "security_notices"): always carries an unsubscribe link.
 */
export function newDeviceSignIn(
  data: NewDeviceSignInData & MailFrame & { unsubscribeUrl: string },
): RenderedMail {
  const name = oneLine(data.name, 80);
  return renderMail({
    frame: data,
    subject: "New sign-in to your Pleisys Engage account",
    preheader: "Was this you? Check the details.",
    heading: "New sign-in to your account",
    blocks: [
      paragraph(name ? `Hi ${name},` : "Hi,"),
      paragraph("Your account was just used to sign in from a device we have not seen before."),
      details([
        ["When", formatUtc(data.at)],
        ["IP address", oneLine(data.ip, 64) || "unknown"],
        ["Device", oneLine(data.userAgent, 160) || "unknown"],
      ]),
      paragraph(
        "If this was you, there is nothing to do. If it was not, change your password now and sign out the sessions you do not recognise.",
      ),
      action("Review your sessions", data.url),
    ],
    reason: "You received this because new sign-in alerts are on for your account.",
    footer: { kind: "optional", what: "new sign-in alerts", unsubscribeUrl: data.unsubscribeUrl },
  });
}
