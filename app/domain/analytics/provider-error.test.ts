import { describe, expect, it } from "vitest";
import { explainProviderError } from "./provider-error";

/**
 * The stored errors below are the exact strings the adapters write (see their classify
 * functions); each must come out in plain words with something to do, and keep the raw text.
 */
describe("explainProviderError", () => {
  const cases: [string, RegExp, RegExp][] = [
    [
      "WhatsApp 131026: message undeliverable: the number may not be on WhatsApp, may not have accepted the latest terms, or uses an old app version",
      /could not deliver the message to this number/,
      /SMS or email/,
    ],
    [
      "WhatsApp 131047: more than 24 hours have passed since the customer last replied; send an approved template instead",
      /24 hours/,
      /approved template/,
    ],
    [
      "WhatsApp 131048: spam rate limit: too many recent messages from this number were blocked or reported",
      /blocked or reported as spam/,
      /quality rating/,
    ],
    [
      "WhatsApp 131056: too many messages to this recipient in a short time",
      /one customer/,
      /retried/,
    ],
    [
      "WhatsApp 132000: the number of template parameters does not match the template (body: expected 2)",
      /number of values/,
      /variable/,
    ],
    [
      "WhatsApp 132001: the template does not exist in this language or is not approved (hello_world)",
      /not approved/,
      /Templates/,
    ],
    [
      "WhatsApp 190: the access token is invalid or has expired; reconnect WhatsApp",
      /no longer accepts the access token/,
      /permanent access token for a system user/,
    ],
    [
      "WhatsApp 100: invalid parameter (Unsupported get request)",
      /invalid parameter/,
      /Phone number ID/,
    ],
    [
      "WhatsApp 80007: the WhatsApp Business Account reached its rate limit",
      /rate limit/,
      /resumes/,
    ],
    [
      "WhatsApp 368: the account is temporarily blocked for policy violations",
      /policy violation/,
      /Account quality/,
    ],
    [
      "WhatsApp 131031: the business account is locked or restricted; see WhatsApp Manager",
      /locked or restricted/,
      /Meta support/,
    ],
    [
      "SES MessageRejected: Email address is not verified.",
      /refused to send this email/,
      /verified/,
    ],
    [
      "SES SendingPausedException: sending is paused for this account or configuration set; resume it in the SES console (Sending paused)",
      /paused sending/,
      /resume sending/,
    ],
    ["SES AccountSendingPausedException: paused", /paused sending/, /SES console/],
    [
      "SES MailFromDomainNotVerifiedException: the custom MAIL FROM domain of the sending identity is not verified; fix its MX/SPF DNS records (x)",
      /MAIL FROM domain/,
      /MX and SPF/,
    ],
    [
      "SES ThrottlingException: Maximum sending rate exceeded.",
      /faster than/,
      /higher sending quota/,
    ],
    [
      "SES Throttling: the 24-hour sending quota is used up (Daily message quota exceeded.)",
      /in 24 hours/,
      /quota frees up/,
    ],
    ["SES InvalidClientTokenId: The security token is invalid", /refused the access key/, /IAM/],
    ["SMS 21211: invalid 'To' phone number", /not a valid number/, /country code/],
    ["SMS 21610: the recipient has opted out (replied STOP)", /replied STOP/, /START/],
    ["SMS 21614: the 'To' number is not a mobile number", /not a mobile number/, /another channel/],
    [
      "SMS 20003: authentication failed: check the account SID and auth token",
      /account SID and auth token/,
      /Settings → Channels/,
    ],
    ["SMS 30007: filtered by the carrier as spam", /filtered this SMS as spam/, /DLT/],
    ["Telegram 403: bot was blocked by the user", /blocked your Telegram bot/, /press Start/],
    [
      "Telegram 400: chat not found (the person may never have started the bot)",
      /has not started your bot/,
      /bot's link/,
    ],
    [
      "Telegram 401: the bot token was rejected: check the bot token",
      /refused the bot token/,
      /@BotFather/,
    ],
  ];

  it.each(cases)("%s", (stored, summary, action) => {
    const plain = explainProviderError(stored)!;
    expect(plain.summary).toMatch(summary);
    expect(plain.action).toMatch(action);
    // The raw code stays available for the details line.
    expect(plain.detail).toBe(stored);
  });

  it("sees through the dispatcher's give-up wrapper", () => {
    const plain = explainProviderError(
      "Gave up after 5 attempts over 30 min: WhatsApp 131056: too many messages to this recipient in a short time",
    )!;
    expect(plain.summary).toMatch(/one customer.*tried several times/);
    expect(plain.detail).toMatch(/^Gave up after 5 attempts/);
  });

  it("keeps unknown errors in the provider's words, without a details line", () => {
    expect(explainProviderError("WhatsApp 131009: a parameter value is not valid")).toEqual({
      summary: "WhatsApp 131009: a parameter value is not valid",
      action: null,
      detail: null,
    });
    expect(explainProviderError("Telegram 403: bot is not a member of the channel chat")).toEqual({
      summary: "Telegram 403: bot is not a member of the channel chat",
      action: null,
      detail: null,
    });
    expect(explainProviderError(null)).toBeNull();
    expect(explainProviderError("  ")).toBeNull();
  });
});
