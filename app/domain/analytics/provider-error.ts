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
