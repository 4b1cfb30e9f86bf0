import { describe, expect, it } from "vitest";
import { accountClosed } from "./account-closed";
import { changeEmail } from "./change-email";
import { dsarArrived, dsarOutcome } from "./dsar-mail";
import { dsarNotice } from "./dsar-notice";
import { dsarVerify } from "./dsar-verify";
import { invitation } from "./invitation";
import { escapeHtml } from "~/lib/html";
import { oneLine, safeUrl, type RenderedMail } from "./layout";
import { mfaChanged } from "./mfa-changed";
import { newDeviceSignIn } from "./new-device-sign-in";
import { resetPassword } from "./reset-password";
import { verifyEmail } from "./verify-email";

const BASE = "https://engage.example.com";
const EVIL = `<script>alert("x")</script> & <img src=x onerror=alert(1)>`;
const AT = new Date("2026-06-10T14:05:02.123Z");
const LINK = "https://engage.example.com/verify-email?token=abc&x=1";
const UNSUB = "https://engage.example.com/unsubscribe?token=eW91.c2ln";

/** Every template, rendered with hostile text wherever a person or a request supplies it. */
const cases: [string, RenderedMail, string][] = [
  ["verify-email", verifyEmail({ name: EVIL, url: LINK, expiresInHours: 24, baseUrl: BASE }), LINK],
  [
    "reset-password",
    resetPassword({ name: EVIL, url: LINK, expiresInMinutes: 30, baseUrl: BASE }),
    LINK,
  ],
  [
    "change-email",
    changeEmail({ name: EVIL, url: LINK, newEmail: `x${EVIL}@example.com`, baseUrl: BASE }),
    LINK,
  ],
  [
    "invitation",
    invitation({
      inviterName: EVIL,
      workspaceName: EVIL,
      role: EVIL,
      url: LINK,
      expiresAt: AT,
      baseUrl: BASE,
    }),
    LINK,
  ],
  [
    "new-device-sign-in",
    newDeviceSignIn({
      name: EVIL,
      at: AT,
      ip: EVIL,
      userAgent: EVIL,
      url: LINK,
      baseUrl: BASE,
      unsubscribeUrl: UNSUB,
    }),
    LINK,
  ],
  [
    "account-closed",
    accountClosed({ name: EVIL, url: LINK, reopenUntil: AT, baseUrl: BASE }),
    LINK,
  ],
  [
    "mfa-changed",
    mfaChanged({ name: EVIL, change: "disabled", at: AT, ip: EVIL, url: LINK, baseUrl: BASE }),
    LINK,
  ],
  [
    "dsar-verify",
    dsarVerify({
      portalName: EVIL,
      what: "a copy of your personal data",
      url: LINK,
      expiresInHours: 24,
      baseUrl: BASE,
    }),
    LINK,
  ],
  [
    "dsar-notice",
    dsarNotice({
      subject: "Your privacy request is confirmed",
      heading: "Your privacy request is confirmed",
      paragraphs: [EVIL],
      askedName: EVIL,
      statusUrl: LINK,
      baseUrl: BASE,
    }),
    LINK,
  ],
  [
    "dsar-outcome",
    dsarOutcome({
      askedName: EVIL,
      what: "a copy of your personal data",
      declined: false,
      lines: [EVIL],
      downloads: [{ label: EVIL, url: LINK }],
      linksExpireAt: AT,
      baseUrl: BASE,
    }),
    LINK,
  ],
  [
    "dsar-arrived",
    dsarArrived({
      workspaceName: EVIL,
      requestLabel: "Export of their data",
      decided: false,
      dueAt: AT,
      url: LINK,
      baseUrl: BASE,
    }),
    LINK,
  ],
];

describe.each(cases)("%s template", (_kind, mail, link) => {
  it("escapes user-supplied text in the HTML body", () => {
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).not.toContain("<img");
    expect(mail.html).toContain("&lt;script&gt;");
    // No quote from the input survives raw, so it cannot close one of our attributes.
    expect(mail.html).not.toContain(`alert("x")`);
    expect(mail.html).toContain("alert(&quot;x&quot;)");
  });

  it("puts the action link in both the text and the HTML body", () => {
    expect(mail.text).toContain(link);
    // In HTML the & of the query string is escaped inside the attribute, as it must be.
    expect(mail.html).toContain(`href="${escapeHtml(link)}"`);
  });

  it("has a one-line subject and no raw markup in the text body's user values", () => {
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject.length).toBeGreaterThan(0);
    expect(mail.text).not.toContain("&lt;");
  });

  it("links the privacy policy in the footer", () => {
    expect(mail.text).toContain(`${BASE}/privacy`);
    expect(mail.html).toContain(`href="${BASE}/privacy"`);
  });
});

describe("footers", () => {
  it("an optional mail carries its unsubscribe link in text and HTML", () => {
    const mail = cases.find(([kind]) => kind === "new-device-sign-in")![1];
    expect(mail.text).toContain(`Don't want new sign-in alerts? Unsubscribe: ${UNSUB}`);
    expect(mail.html).toContain(`href="${UNSUB}"`);
    expect(mail.text).not.toContain("service message");
  });

  it("a required mail says it is sent anyway and offers to stop optional mail", () => {
    const mail = verifyEmail({ name: "Asha", url: LINK, baseUrl: BASE, unsubscribeUrl: UNSUB });
    expect(mail.text).toContain("sent even if you unsubscribed from optional emails");
    expect(mail.text).toContain(
      `To stop optional emails from Pleisys Engage, unsubscribe: ${UNSUB}`,
    );
    expect(mail.html).toContain(`href="${UNSUB}"`);
  });

  it("a required mail without an unsubscribe link renders no empty link", () => {
    const mail = verifyEmail({ name: "Asha", url: LINK, baseUrl: BASE });
    expect(mail.text).not.toContain("unsubscribe:");
    expect(mail.html).not.toContain("unsubscribe?");
  });
});

describe("template details", () => {
  it("user text cannot add lines to the text body or the subject", () => {
    const mail = invitation({
      inviterName: "Mallory\n\nYour account is locked, call +1 555 0100\r\n",
      workspaceName: "Acme\u2028Corp",
      role: "admin",
      url: LINK,
      expiresAt: AT,
      baseUrl: BASE,
    });
    expect(mail.subject).toBe(
      "Mallory Your account is locked, call +1 555 0100 invited you to Acme Corp on Pleisys Engage",
    );
    expect(mail.text).not.toMatch(/^Your account is locked/m);
  });

  it("shows the time in UTC, independent of the server's locale and zone", () => {
    const mail = newDeviceSignIn({
      name: "Asha",
      at: AT,
      ip: "203.0.113.7",
      userAgent: "Firefox on Linux",
      url: LINK,
      baseUrl: BASE,
      unsubscribeUrl: UNSUB,
    });
    expect(mail.text).toContain("When: 10 Jun 2026, 14:05 UTC");
    expect(mail.text).toContain("IP address: 203.0.113.7");
    expect(mail.text).toContain("Device: Firefox on Linux");
  });

  it("mfa-changed words each change differently", () => {
    const subjects = (["enabled", "disabled", "recovery_codes_regenerated"] as const).map(
      (change) => mfaChanged({ name: "A", change, at: AT, url: LINK, baseUrl: BASE }).subject,
    );
    expect(new Set(subjects).size).toBe(3);
    expect(subjects[1]).toContain("turned off");
  });

  it("reset-password explains a sign-up attempt with an existing address", () => {
    const mail = resetPassword({
      name: "A",
      url: LINK,
      trigger: "signup_with_existing_email",
      baseUrl: BASE,
    });
    expect(mail.subject).toBe("You already have a Pleisys Engage account");
    expect(mail.text).toContain("already has an account");
    expect(mail.text).toContain(LINK);
  });

  it("refuses links that are not absolute http(s) URLs", () => {
    expect(() => verifyEmail({ name: "A", url: "javascript:alert(1)", baseUrl: BASE })).toThrow(
      /http or https/,
    );
    expect(() => verifyEmail({ name: "A", url: "/relative", baseUrl: BASE })).toThrow(/absolute/);
    expect(safeUrl("https://x.example/a b")).toBe("https://x.example/a%20b");
  });

  it("escapeHtml and oneLine", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
    );
    expect(oneLine("  a\n\tb\u0000c  ")).toBe("a b c");
    expect(oneLine("x".repeat(50), 10)).toBe(`${"x".repeat(9)}…`);
  });
});

describe("privacy request mails to the requester", () => {
  const outcome = (declined: boolean, downloads: { label: string; url: string }[]) =>
    dsarOutcome({
      askedName: "Chai Corner",
      what: "a copy of your personal data",
      declined,
      lines: declined
        ? ["Chai Corner declined your request: we must keep invoices."]
        : ["Chai Corner: your data is ready to download (link below)."],
      downloads,
      linksExpireAt: downloads.length ? AT : null,
      baseUrl: BASE,
    });

  it("name the business asked and speak of the requester's own data", () => {
    const verify = dsarVerify({
      portalName: "Chai Corner",
      what: "a copy of your personal data",
      url: LINK,
      expiresInHours: 24,
      baseUrl: BASE,
    });
    expect(verify.subject).toBe("Confirm your privacy request to Chai Corner");
    expect(verify.text).toContain("You asked Chai Corner for a copy of your personal data");
    expect(verify.text).toContain("an answer within 30 days of your request");
    expect(verify.text).toContain("given in a privacy request to Chai Corner");

    const ready = outcome(false, [{ label: "Download: Chai Corner", url: LINK }]);
    expect(ready.subject).toBe("Your data from Chai Corner is ready to download");
    expect(ready.text).toContain("You asked Chai Corner for a copy of your personal data.");
    expect(ready.text).not.toMatch(/their data/i);
    expect(ready.text).toContain("you made a privacy request to Chai Corner");

    const closed = outcome(true, []);
    expect(closed.subject).toBe("Your privacy request to Chai Corner was declined");
    expect(closed.text).toContain("Your request was declined, and it is now closed");
    expect(closed.text).toContain("we must keep invoices");
  });

  it("from the platform's own form say what it covers", () => {
    const verify = dsarVerify({
      portalName: null,
      what: "the erasure of your personal data",
      url: LINK,
      expiresInHours: 24,
      baseUrl: BASE,
    });
    expect(verify.subject).toBe("Confirm your privacy request to Pleisys Engage");
    expect(verify.text).toContain("every business using Pleisys Engage that holds data about you");
  });
});

describe("privacy request mails to owners and admins", () => {
  it("a new request says what was asked and by when, or that it was approved automatically", () => {
    const base = {
      workspaceName: "Chai Corner",
      requestLabel: "Erasure of their data",
      dueAt: AT,
      url: LINK,
      baseUrl: BASE,
    };
    const pending = dsarArrived({ ...base, decided: false });
    expect(pending.subject).toBe(
      "New privacy request in Chai Corner: answer by 10 Jun 2026, 14:05 UTC",
    );
    expect(pending.text).toContain("approve it, or decline it with a reason");
    const auto = dsarArrived({ ...base, decided: true });
    expect(auto.subject).toBe("A privacy request in Chai Corner was approved automatically");
    expect(auto.text).not.toContain("decline it");
  });
});
