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

export type MfaChange = "enabled" | "disabled" | "recovery_codes_regenerated";

export interface MfaChangedData {
  name: string;
  change: MfaChange;
  at: Date;
  ip?: string;
  /** Where the user manages two-factor authentication. */
  url: string;
}

const WORDING: Record<MfaChange, { subject: string; heading: string; body: string }> = {
  enabled: {
    subject: "Two-factor authentication is on for your Pleisys Engage account",
    heading: "Two-factor authentication turned on",
    body: "Two-factor authentication was turned on for your account. Signing in now needs a code from your authenticator app or a recovery code.",
  },
  disabled: {
    subject: "Two-factor authentication was turned off for your Pleisys Engage account",
    heading: "Two-factor authentication turned off",
    body: "Two-factor authentication was turned off for your account. Signing in now needs only your password.",
  },
  recovery_codes_regenerated: {
    subject: "New recovery codes for your Pleisys Engage account",
    heading: "New recovery codes created",
    body: "New two-factor recovery codes were created for your account. Your old recovery codes no longer work.",
  },
};

/** Sent whenever the second factor of an account changes. */
export function mfaChanged(data: MfaChangedData & MailFrame): RenderedMail {
  const name = oneLine(data.name, 80);
  const wording = WORDING[data.change];
  const rows: [string, string][] = [["When", formatUtc(data.at)]];
  if (data.ip) rows.push(["IP address", oneLine(data.ip, 64)]);
  return renderMail({
    frame: data,
    subject: wording.subject,
    preheader: wording.heading,
    heading: wording.heading,
    blocks: [
      paragraph(name ? `Hi ${name},` : "Hi,"),
      paragraph(wording.body),
      details(rows),
      paragraph(
        "If you did not do this, reset your password straight away and check your security settings.",
      ),
      action("Open security settings", data.url),
    ],
    reason: "You received this because the security settings of your account changed.",
    footer: { kind: "required" },
  });
}
