import {
  action,
  oneLine,
  paragraph,
  plural,
  renderMail,
  type MailFrame,
  type RenderedMail,
} from "./layout";

export interface VerifyEmailData {
  name: string;
  /** The confirmation link. */
  url: string;
  expiresInHours?: number;
}

/** Sent after sign-up (and on "resend"): proves the address belongs to the person. */
export function verifyEmail(data: VerifyEmailData & MailFrame): RenderedMail {
  const name = oneLine(data.name, 80);
  const expiry =
    data.expiresInHours === undefined
      ? "The link works once and expires soon."
      : `The link works once and expires in ${plural(data.expiresInHours, "hour")}.`;
  return renderMail({
    frame: data,
    subject: "Confirm your email address for Pleisys Engage",
    preheader: "Confirm your address to finish setting up your account.",
    heading: "Confirm your email address",
    blocks: [
      paragraph(name ? `Hi ${name},` : "Hi,"),
      paragraph(
        "Thanks for signing up for Pleisys Engage. Confirm that this is your email address to finish setting up your account.",
      ),
      action("Confirm email address", data.url),
      paragraph(
        `${expiry} If you did not sign up, ignore this email: the account stays unconfirmed.`,
      ),
    ],
    reason: "You received this because this address was used to sign up for Pleisys Engage.",
    footer: { kind: "required" },
  });
}
