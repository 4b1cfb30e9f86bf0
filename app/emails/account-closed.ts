import {
  action,
  formatUtc,
  oneLine,
  paragraph,
  renderMail,
  type MailFrame,
  type RenderedMail,
} from "./layout";

export interface AccountClosedData {
  name: string;
  /** The signed reopen link. */
  url: string;
  /** The last moment the account can be reopened; it is deleted after. */
  reopenUntil: Date;
  /** "closed": sent at closure; "reopen_requested": asked for again from the sign-in page. */
  trigger?: "closed" | "reopen_requested";
}

/** Sent when an account is closed, and again when its owner asks for the reopen link. */
export function accountClosed(data: AccountClosedData & MailFrame): RenderedMail {
  const name = oneLine(data.name, 80);
  const until = formatUtc(data.reopenUntil);
  const requested = data.trigger === "reopen_requested";
  return renderMail({
    frame: data,
    subject: requested
      ? "Reopen your Pleisys Engage account"
      : "Your Pleisys Engage account is closed",
    preheader: `You can reopen it until ${until}.`,
    heading: requested ? "Reopen your account" : "Your account is closed",
    blocks: [
      paragraph(name ? `Hi ${name},` : "Hi,"),
      paragraph(
        requested
          ? "Someone asked to reopen your closed Pleisys Engage account. If it was you, use the button below."
          : "Your Pleisys Engage account was closed and you were signed out everywhere. Workspaces you owned alone were deleted with it.",
      ),
      paragraph(
        `You can reopen it until ${until}. After that the account is deleted for good, as our privacy policy says (90 days after closure).`,
      ),
      action("Reopen my account", data.url),
      paragraph(
        requested
          ? "If you did not ask for this, ignore this email: the account stays closed."
          : "If you did not close your account, reopen it with the button and change your password straight away.",
      ),
    ],
    reason: "You received this because your Pleisys Engage account was closed.",
    footer: { kind: "required" },
  });
}
