import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gt } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { policyVersions, users } from "~/db/schema/control";
import { APP_ROOT } from "~/lib/app-root.server";
import { inlineText, parseSafeMarkdown, type DocBlock } from "~/lib/safe-markdown";
import type { SystemContext } from "../context";
import { shippedPolicyText, shippedPolicyUpdates } from "./policy.server";
import {
  earliestEffectiveDate,
  getPolicyVersion,
  listPolicyVersions,
  policyNoticeFor,
  publishShippedPolicyVersions,
  shippedVersionNumbers,
  upcomingVersion,
  versionInForce,
} from "./policy-versions.server";

/**
 * The policy versions that ship after the first are published at start-up through the normal
 * path (14 days' notice, banner, emails), and the latest one names every outside service the
 * code can send data to.
 */

const DAY = 24 * 60 * 60 * 1000;
const system = (now: Date): SystemContext => ({
  actor: { type: "system", id: "policy" },
  now: () => now,
});
const shipped = shippedPolicyUpdates();
const v2File = shipped.find((u) => u.file === "2026-12-21.md")!;

function subProcessorRows(blocks: DocBlock[]): string[] {
  const table = blocks.find(
    (b): b is Extract<DocBlock, { kind: "table" }> =>
      b.kind === "table" && inlineText(b.header[0]!) === "Provider",
  );
  expect(table, "the policy has a sub-processor table").toBeDefined();
  return table!.rows.map((row) => inlineText(row[0]!));
}

describe("version 2, shipped in content/privacy-policy", () => {
  it("changes nothing but the sub-processor rows and the effective date", () => {
    const v1 = shippedPolicyText().split("\n").slice(2);
    const v2 = v2File.markdown.split("\n");
    expect(v2[0]).toBe("Effective date: December 21, 2026");
    // Markdown marks the headings; the words are v1's, line for line, plus three table rows.
    const plain = v2
      .slice(1)
      .filter((line) => line.trim() !== "")
      .map((line) => line.replace(/^#{2,3} /, ""));
    const added = plain.filter((line) => !v1.includes(line));
    expect(added).toEqual([
      "| Twilio (SMS API) | SMS delivery | Phone numbers, message content |",
      "| Telegram (Bot API) | Telegram message delivery | Telegram chat IDs, message content |",
      "| Google (Google Sign-In) | Signing in with a Google account | Google profile name and email address |",
    ]);
    expect(v1.filter((line) => line.trim() !== "" && !plain.includes(line))).toEqual([]);
  });

  it("is published at start-up with 14 days' notice: v1 stays in force until its date, then v2", () => {
    const user = getControlDb()
      .insert(users)
      .values({
        id: "usr_shipped000001",
        email: "shipped@example.com",
        name: "Shipped",
        emailVerifiedAt: new Date("2026-11-01T00:00:00Z"),
        ageConfirmedAt: new Date("2026-11-01T00:00:00Z"),
        policyVersion: "1",
        policyAcceptedAt: new Date("2026-11-01T00:00:00Z"),
        status: "active",
        createdAt: new Date("2026-11-01T00:00:00Z"),
      })
      .returning()
      .get();
    const publishedAt = new Date("2026-12-07T05:00:00.000Z");
    const [v2] = publishShippedPolicyVersions(system(publishedAt));
    expect(v2).toMatchObject({ version: 2, effectiveDate: "2026-12-21" });
    // 14 calendar days (UTC) after the day it was published, as for any version.
    expect(v2!.effectiveDate >= earliestEffectiveDate(publishedAt)).toBe(true);
    expect(v2!.publishedAt).toEqual(publishedAt);
    // A restart publishes nothing again.
    expect(publishShippedPolicyVersions(system(new Date(publishedAt.getTime() + DAY)))).toEqual([]);
    expect(listPolicyVersions().map((v) => v.version)).toEqual([2, 1]);
    expect(shippedVersionNumbers()).toEqual(new Set([1, 2]));

    // Until its date: v1 in force, v2 announced, the banner asks the user.
    const before = new Date("2026-12-20T23:59:59.000Z");
    expect(versionInForce(before).version).toBe(1);
    expect(upcomingVersion(before)).toMatchObject({ version: 2, effectiveDate: "2026-12-21" });
    expect(policyNoticeFor(user.id, before)).toEqual({ version: 2, effectiveDate: "2026-12-21" });
    // From its date (the clock moved): v2 in force, nothing announced.
    const after = new Date("2026-12-21T00:00:00.000Z");
    expect(versionInForce(after).version).toBe(2);
    expect(upcomingVersion(after)).toBeUndefined();
    const rows = subProcessorRows(getPolicyVersion(2).blocks);
    expect(rows).toEqual(expect.arrayContaining(["Twilio (SMS API)", "Telegram (Bot API)"]));
  });

  it("reached late, takes effect 14 days after publishing and says so", () => {
    // Start again from v1 alone.
    getControlDb().delete(policyVersions).where(gt(policyVersions.version, 1)).run();
    const late = new Date("2026-12-15T09:00:00.000Z");
    const [v2] = publishShippedPolicyVersions(system(late));
    expect(v2!.effectiveDate).toBe("2026-12-29");
    const first = getPolicyVersion(v2!.version).blocks[0]!;
    expect(first.kind === "paragraph" && inlineText(first.content)).toBe(
      "Effective date: December 29, 2026",
    );
  });
});

describe("the latest policy names every outside service the code can reach", () => {
  const latest = shipped[shipped.length - 1]!;
  const rows = subProcessorRows(parseSafeMarkdown(latest.markdown));

  /** Each setting that points the code at an outside service, and the policy row naming it. */
  const PROVIDER_SETTINGS: Record<string, string> = {
    WHATSAPP_API_BASE_URL: "Meta (WhatsApp Cloud API)",
    SES_ENDPOINT: "AWS SES",
    SMS_API_BASE_URL: "Twilio (SMS API)",
    TELEGRAM_API_BASE_URL: "Telegram (Bot API)",
    ANTHROPIC_BASE_URL: "Anthropic",
    STRIPE_API_BASE_URL: "Stripe",
    RAZORPAY_API_BASE_URL: "Razorpay",
    GOOGLE_OAUTH_BASE_URL: "Google (Google Sign-In)",
  };
  /** Each provider folder under app/channels, and the policy row naming it (null: none needed). */
  const CHANNEL_FOLDERS: Record<string, string | null> = {
    "whatsapp-cloud": "Meta (WhatsApp Cloud API)",
    ses: "AWS SES",
    "sms-twilio": "Twilio (SMS API)",
    telegram: "Telegram (Bot API)",
    anthropic: "Anthropic",
    // The tenant's own mail server: their processor, not ours.
    smtp: null,
    // Nothing leaves the box.
    sandbox: null,
  };

  it("every provider setting in the environment schema has its row", () => {
    const source = readFileSync(join(APP_ROOT, "app", "lib", "env.server.ts"), "utf8");
    const settings = [...source.matchAll(/^\s+([A-Z][A-Z0-9_]*_(?:BASE_URL|ENDPOINT)):/gm)]
      .map((m) => m[1]!)
      .sort();
    expect(settings).toEqual(Object.keys(PROVIDER_SETTINGS).sort());
    for (const [setting, row] of Object.entries(PROVIDER_SETTINGS)) {
      expect(rows, setting).toContain(row);
    }
  });

  it("every channel provider has its row", () => {
    const folders = readdirSync(join(APP_ROOT, "app", "channels"), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(folders).toEqual(Object.keys(CHANNEL_FOLDERS).sort());
    for (const [folder, row] of Object.entries(CHANNEL_FOLDERS)) {
      if (row) expect(rows, folder).toContain(row);
    }
  });
});
