/**
 * A message's stored error split into the provider's code and the reason, for grouping
 * failures. Adapters write "<Provider> <code>: <reason>" (e.g. "WhatsApp 131026: message
 * undeliverable", "SES MessageRejected: ...", "SMTP 550: ..."), SES bounces "<type>/<subtype>:
 * <diagnostic>"; the dispatcher wraps an exhausted retry as "Gave up after N attempts over M
 * min: <reason>", which would otherwise split one cause into a group per attempt count.
 */

export interface ProviderError {
  code: string | null;
  reason: string;
}

const PROVIDER_CODE = /^(WhatsApp|SMS|SES|SMTP|Telegram)\s+([^:\s][^:]{0,39}?):\s*([\s\S]*)$/;
const BOUNCE_TYPE = /^((?:Permanent|Transient|Undetermined)\/[A-Za-z]+)(?::\s*([\s\S]*))?$/;
const GAVE_UP = /^Gave up after \d+ attempts? over \d+ min: ([\s\S]*)$/;

export function splitProviderError(error: string | null): ProviderError {
  const text = (error ?? "").trim();
  if (!text) return { code: null, reason: "No reason given" };
  const gaveUp = GAVE_UP.exec(text);
  if (gaveUp) {
    const inner = splitProviderError(gaveUp[1]!);
    return { code: inner.code, reason: `${inner.reason} (gave up after retries)` };
  }
  const provider = PROVIDER_CODE.exec(text);
  if (provider) {
    return { code: `${provider[1]} ${provider[2]!.trim()}`, reason: provider[3]!.trim() || text };
  }
  const bounce = BOUNCE_TYPE.exec(text);
  if (bounce) return { code: bounce[1]!, reason: bounce[2]?.trim() || "Bounced" };
  return { code: null, reason: text };
}

/** A provider error in plain words: what happened, what to do, and the provider's own text. */
export interface PlainProviderError {
  /** What happened, for someone who has never read the provider's documentation. */
  summary: string;
  /** What to do about it; null when there is nothing known to suggest. */
  action: string | null;
  /**
   * The stored error as the provider gave it (code and words), for a "details" line; null when
   * there is no translation and the summary already is the provider's text.
   */
  detail: string | null;
}

interface Explanation {
  summary: string;
  action: string;
}

const WHATSAPP: Record<string, Explanation> = {
  "0": {
    summary: "Meta could not sign in with the access token: it expired or was revoked.",
    action:
      "Create a permanent access token for a system user in Meta Business Settings and enter it under Settings → Channels.",
  },
  "190": {
    summary: "Meta no longer accepts the access token: it expired or was revoked.",
    action:
      "Create a permanent access token for a system user in Meta Business Settings and enter it under Settings → Channels.",
  },
  "100": {
    summary: "Meta refused a value sent with the request (invalid parameter).",
    action:
      "Check the Phone number ID and WhatsApp Business Account ID under Settings → Channels; the details below name the value Meta refused.",
  },
  "80007": {
    summary: "Your WhatsApp Business Account reached Meta's rate limit.",
    action:
      "Nothing to do now: sending pauses and resumes by itself. If it keeps happening, lower the messages per second under Settings → Channels.",
  },
  "368": {
    summary: "Meta has temporarily blocked your WhatsApp account for a policy violation.",
    action:
      "Open WhatsApp Manager → Account quality to see which policy and to request a review. Nothing can be sent until Meta lifts the block.",
  },
  "131026": {
    summary: "WhatsApp could not deliver the message to this number.",
    action:
      "The number may not be on WhatsApp, or its owner uses an old app or has not accepted WhatsApp's latest terms. Reach this contact by SMS or email instead.",
  },
  "131031": {
    summary: "Meta has locked or restricted your WhatsApp Business Account.",
    action:
      "Open WhatsApp Manager to see why, and contact Meta support to have it unlocked. Nothing can be sent until then.",
  },
  "131047": {
    summary:
      "More than 24 hours have passed since this customer last wrote to you, so WhatsApp only accepts an approved template.",
    action: "Send an approved template instead of free text.",
  },
  "131048": {
    summary:
      "WhatsApp is holding back messages from your number: too many recent ones were blocked or reported as spam.",
    action:
      "Sending resumes by itself later. Message only people who asked to hear from you, and check the quality rating in WhatsApp Manager.",
  },
  "131056": {
    summary: "Too many messages went to this one customer in a short time.",
    action: "Nothing to do: the message is retried after a short wait.",
  },
  "132000": {
    summary: "The template got a different number of values than it has variables.",
    action: "Give every variable of the template ({{1}}, {{2}}, …) a value, then send again.",
  },
  "132001": {
    summary: "This template does not exist in this language, or Meta has not approved it yet.",
    action:
      "Check the template's name, language and status under Templates; only approved templates can be sent.",
  },
};

const SES: Record<string, Explanation> = {
  MessageRejected: {
    summary: "Amazon SES refused to send this email.",
    action:
      "Usually the From address is not a verified identity, or, while the account is in the SES sandbox, the recipient is not verified. The details below give SES's reason.",
  },
  SendingPaused: {
    summary:
      "Amazon SES has paused sending for your account, usually because of too many bounces or complaints.",
    action: "Open the SES console, fix the cause it names, and resume sending there.",
  },
  AccountSendingPaused: {
    summary:
      "Amazon SES has paused sending for your account, usually because of too many bounces or complaints.",
    action: "Open the SES console, fix the cause it names, and resume sending there.",
  },
  AccountSuspended: {
    summary: "Amazon SES has suspended your account: it cannot send email.",
    action: "Contact AWS Support to find out why and to have it reinstated.",
  },
  MailFromDomainNotVerified: {
    summary: "The custom MAIL FROM domain of your sending address is not verified.",
    action: "Add the MX and SPF records the SES console shows for it to your domain's DNS.",
  },
  Throttling: {
    summary: "Emails went out faster than your Amazon SES account allows.",
    action:
      "Nothing to do: sending slows down and carries on. To send faster, ask for a higher sending quota in the SES console.",
  },
  Credentials: {
    summary: "Amazon Web Services refused the access key.",
    action:
      "Check the access key ID and secret under Settings → Channels, and that the key's IAM user may send with SES in this region.",
  },
};
SES.TooManyRequests = SES.Throttling!;
SES.LimitExceeded = SES.Throttling!;
const SES_DAILY_QUOTA: Explanation = {
  summary: "Your Amazon SES account has sent as many emails as it may in 24 hours.",
  action:
    "Sending carries on when the quota frees up. For more, ask for a higher sending quota in the SES console.",
};
const SES_CREDENTIALS = new Set([
  "UnrecognizedClient",
  "InvalidSignature",
  "SignatureDoesNotMatch",
  "InvalidClientTokenId",
  "AccessDenied",
  "MissingAuthenticationToken",
  "ExpiredToken",
]);

const SMS: Record<string, Explanation> = {
  "20003": {
    summary: "The SMS provider refused the account SID and auth token.",
    action:
      "Copy both again from your provider's console (Twilio: Console → Account info) and save them under Settings → Channels.",
  },
  "21211": {
    summary: "The phone number is not a valid number.",
    action: "Correct the contact's number, with its country code (e.g. +91 98765 43210).",
  },
  "21610": {
    summary: "This person replied STOP to your SMS number, so they cannot be sent SMS.",
    action: "Nothing to do: they can reply START to receive SMS again.",
  },
  "21614": {
    summary: "The number is not a mobile number, so it cannot receive SMS.",
    action: "Reach this contact on another channel, or ask them for a mobile number.",
  },
  "30007": {
    summary: "The mobile carrier filtered this SMS as spam.",
    action:
      "Register your sender and message template where the destination requires it (DLT in India), and avoid link shorteners.",
  },
};

const TELEGRAM_TOKEN: Explanation = {
  summary: "Telegram refused the bot token.",
  action: "Get the token again from @BotFather (/token), then save it under Settings → Channels.",
};
const TELEGRAM_BLOCKED: Explanation = {
  summary: "This person blocked your Telegram bot.",
  action: "Nothing to do: the bot cannot write to them until they open it and press Start again.",
};
const TELEGRAM_NO_CHAT: Explanation = {
  summary: "Telegram does not know this chat: the person has not started your bot.",
  action: "Share your bot's link (Settings → Channels) and ask them to press Start.",
};

function lookup(code: string, reason: string): Explanation | null {
  const [provider, raw = ""] = code.split(" ", 2);
  switch (provider) {
    case "WhatsApp":
      return WHATSAPP[raw] ?? null;
    case "SES": {
      if (/24-hour sending quota|daily message quota/i.test(reason)) return SES_DAILY_QUOTA;
      const name = raw.replace(/Exception$/, "");
      if (SES_CREDENTIALS.has(name)) return SES.Credentials!;
      return SES[name] ?? null;
    }
    case "SMS":
      return SMS[raw] ?? null;
    case "Telegram":
      if (raw === "401" || (raw === "404" && /token/i.test(reason))) return TELEGRAM_TOKEN;
      if (raw === "403" && /blocked/i.test(reason)) return TELEGRAM_BLOCKED;
      if (raw === "400" && /chat not found/i.test(reason)) return TELEGRAM_NO_CHAT;
      return null;
    default:
      return null;
  }
}

/**
 * A stored provider error (as adapters write it, see splitProviderError) in plain words, with
 * what to do. Errors without a known translation keep their own words as the summary.
 */
export function explainProviderError(error: string | null): PlainProviderError | null {
  const text = (error ?? "").trim();
  if (!text) return null;
  const { code, reason } = splitProviderError(text);
  const known = code ? lookup(code, reason) : null;
  const sesPaused = !known && /^SES sending is disabled/i.test(text) ? SES.SendingPaused! : null;
  const found = known ?? sesPaused;
  if (!found) return { summary: text, action: null, detail: null };
  const retried = GAVE_UP.test(text) ? " It was tried several times." : "";
  return { summary: `${found.summary}${retried}`, action: found.action, detail: text };
}
