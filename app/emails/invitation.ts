import {
  action,
  formatUtc,
  oneLine,
  paragraph,
  renderMail,
  type MailFrame,
  type RenderedMail,
} from "./layout";

export interface InvitationData {
  inviterName: string;
  workspaceName: string;
  role: string;
  /** The accept link. */
  url: string;
  expiresAt: Date;
}

/** Sent to an address a workspace admin invited; the recipient may have no account yet. */
export function invitation(data: InvitationData & MailFrame): RenderedMail {
  const inviter = oneLine(data.inviterName, 80) || "A teammate";
  const workspace = oneLine(data.workspaceName, 80) || "a workspace";
  const role = oneLine(data.role, 40);
  return renderMail({
    frame: data,
    subject: `${inviter} invited you to ${workspace} on Pleisys Engage`,
    preheader: `Join ${workspace} as ${role}.`,
    heading: `Join ${workspace} on Pleisys Engage`,
    blocks: [
      paragraph(
        `${inviter} invited you to the workspace “${workspace}” on Pleisys Engage, with the role ${role}.`,
      ),
      action("Accept the invitation", data.url),
      paragraph(
        `The invitation expires on ${formatUtc(data.expiresAt)}. ` +
          "If you were not expecting it, ignore this email: nothing happens unless you accept.",
      ),
    ],
    reason: `You received this because ${inviter} invited this address to a workspace.`,
    footer: { kind: "required" },
  });
}
