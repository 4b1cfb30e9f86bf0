import {
  action,
  oneLine,
  paragraph,
  plural,
  renderMail,
  type MailFrame,
  type RenderedMail,
} from "./layout";

export interface ChangeEmailData {
  name: string;
  /** The confirmation link. */
  url: string;
  /** The new address (the one this mail is sent to), shown in the message when given. */
  newEmail?: string;
  expiresInHours?: number;
}

/** Sent to the new address when a user changes their sign-in email. */
export function changeEmail(data: ChangeEmailData & MailFrame): RenderedMail {
  const name = oneLine(data.name, 80);
  const target = data.newEmail ? oneLine(data.newEmail, 254) : "this address";
  const expiry =
    data.expiresInHours === undefined
      ? "The link works once and expires soon."
      : `The link works once and expires in ${plural(data.expiresInHours, "hour")}.`;
  return renderMail({
    frame: data,
    subject: "Confirm your new email address for Pleisys Engage",
    preheader: "Confirm the change to finish it.",
    heading: "Confirm your new email address",
    blocks: [
      paragraph(name ? `Hi ${name},` : "Hi,"),
      paragraph(
        `You asked to sign in to Pleisys Engage as ${target}. Confirm it to finish the change; until then your old address keeps working.`,
      ),
      action("Confirm new address", data.url),
      paragraph(`${expiry} If you did not ask for this, ignore this email and nothing changes.`),
    ],
    reason: "You received this because this address was entered as the new email of an account.",
    footer: { kind: "required" },
  });
}
