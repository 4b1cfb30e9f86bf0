import {
  action,
  oneLine,
  paragraph,
  plural,
  renderMail,
  type MailFrame,
  type RenderedMail,
} from "./layout";

export interface ResetPasswordData {
  name: string;
  /** The reset link. */
  url: string;
  expiresInMinutes?: number;
  /**
   * What caused the mail: a reset request (default), or a sign-up attempt with an address that
   * already has an account (the sign-up form must not reveal that, so the owner gets this).
   */
  trigger?: "reset_requested" | "signup_with_existing_email";
}

/** Sent when someone asks to reset the password of an existing account. */
export function resetPassword(data: ResetPasswordData & MailFrame): RenderedMail {
  const name = oneLine(data.name, 80);
  const signup = data.trigger === "signup_with_existing_email";
  const expiry =
    data.expiresInMinutes === undefined
      ? "The link works once and expires soon."
      : `The link works once and expires in ${plural(data.expiresInMinutes, "minute")}.`;
  return renderMail({
    frame: data,
    subject: signup
      ? "You already have a Pleisys Engage account"
      : "Reset your Pleisys Engage password",
    preheader: signup
      ? "Sign in, or choose a new password."
      : "Choose a new password for your account.",
    heading: signup ? "You already have an account" : "Reset your password",
    blocks: [
      paragraph(name ? `Hi ${name},` : "Hi,"),
      paragraph(
        signup
          ? "Someone tried to sign up for Pleisys Engage with this address, which already has an account. If it was you, sign in as usual, or choose a new password if you forgot it."
          : "Someone asked to reset the password of your Pleisys Engage account.",
      ),
      action("Choose a new password", data.url),
      paragraph(`${expiry} Setting a new password signs you out everywhere else.`),
      paragraph(
        signup
          ? "If it was not you, ignore this email: nothing about your account changes."
          : "If you did not ask for this, ignore this email: your password stays the same.",
      ),
    ],
    reason: signup
      ? "You received this because this address was entered on the sign-up form."
      : "You received this because a password reset was requested for your account.",
    footer: { kind: "required" },
  });
}
