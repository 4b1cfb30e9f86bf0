import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  aiDrafts,
  conversations,
  csatResponses,
  type AiDraftStatus,
} from "~/db/schema/tenant-inbox";
import { inboundMessages, messages } from "~/db/schema/tenant";
import { createContact } from "~/domain/contacts/contacts.server";
import type { WorkspaceContext } from "~/domain/context";
import type { Browser, TestUser } from "../support/accounts";
import { parseCsv } from "../support/csv";
import { textOf } from "../support/html";
import type { TestServer } from "../support/server";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * The inbox reports page and its CSVs through the real server, over conversations, messages,
 * CSAT answers and AI drafts seeded straight into the workspace's file. Every expected number
 * below is worked out by hand from the seed, on the workspace's clock (Kolkata, UTC+5:30).
 */

const slug = "inbox-reports";
const nySlug = "inbox-reports-ny";
const IST = 5.5 * 3_600_000;
const MIN = 60_000;
const HOUR = 60 * MIN;
/** A wall-clock time in Kolkata on a day of November 2026. */
const nov = (day: number, h: number, m = 0) => Date.UTC(2026, 10, day, h, m) - IST;
const page = `/w/${slug}/inbox/reports`;
const csv = `/w/${slug}/inbox/reports.csv`;
const RANGE = "from=2026-11-02&to=2026-11-04";

let server: TestServer;
let owner: TestUser;
let anu: TestUser;
let rina: Browser;
let viewer: Browser;
let marketer: Browser;
let agent: Browser;
let nyOwner: Browser;

let seq = 0;
function seeder(ctx: WorkspaceContext) {
  const db = ctx.db;
  const contact = () =>
    createContact(ctx, { name: `Customer ${++seq}`, phone: `+9198765${String(10000 + seq)}` }).id;
  return {
    conversation(createdAt: number, extra: { resolvedAt?: number; assigneeId?: string } = {}) {
      const resolved = extra.resolvedAt !== undefined;
      return db
        .insert(conversations)
        .values({
          contactId: contact(),
          channel: "whatsapp",
          accountKey: "",
          status: resolved ? "resolved" : "open",
          assigneeId: extra.assigneeId ?? null,
          lastMessageAt: new Date(createdAt),
          resolvedAt: resolved ? new Date(extra.resolvedAt!) : null,
          createdAt: new Date(createdAt),
          updatedAt: new Date(createdAt),
        })
        .returning({ id: conversations.id })
        .get().id;
    },
    inbound(conversationId: number, at: number) {
      db.insert(inboundMessages)
        .values({
          channel: "whatsapp",
          sender: "+919876500000",
          text: "Hello?",
          providerMessageId: `in-${++seq}`,
          at: new Date(at),
          conversationId,
        })
        .run();
    },
    /** A message in the conversation: a member's reply (`authorId`), or the system's (null). */
    outbound(conversationId: number, at: number, authorId: string | null) {
      db.insert(messages)
        .values({
          id: `msg-${++seq}`,
          channel: "whatsapp",
          kind: "service",
          recipient: "+919876500000",
          status: "delivered",
          nextAttemptAt: new Date(at),
          conversationId,
          authorId,
          createdAt: new Date(at),
          updatedAt: new Date(at),
        })
        .run();
    },
    csat(conversationId: number, askedAt: number, agentId: string | null, score: number | null) {
      db.insert(csatResponses)
        .values({ conversationId, agentId, askedAt: new Date(askedAt), score })
        .run();
    },
    draft(
      conversationId: number,
      at: number,
      status: AiDraftStatus,
      edited: boolean | null = null,
    ) {
      db.insert(aiDrafts)
        .values({ conversationId, status, edited, createdAt: new Date(at) })
        .run();
    },
  };
}

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Rina Owner",
    workspace: { slug, name: "Reports Shop", timezone: "Asia/Kolkata" },
    members: {
      anu: { name: "Anu Agent", role: "agent" },
      bela: { name: "=Bela Agent", role: "agent" },
      viewer: { name: "Vik Viewer", role: "viewer" },
      marketer: { name: "Mia Marketer", role: "marketer" },
    },
  });
  owner = team.owner;
  anu = team.members.anu;
  const s = seeder(team.ctx);
  const [A, R, gone] = [anu.id, owner.id, "user-who-left"];

  // Before the range: started, answered on 1 Nov; Rina writes again and resolves on 2 Nov.
  const c0 = s.conversation(nov(1, 10), { resolvedAt: nov(2, 10), assigneeId: R });
  s.inbound(c0, nov(1, 10));
  s.outbound(c0, nov(1, 10, 5), R);
  s.outbound(c0, nov(2, 9, 55), R);
  s.draft(c0, nov(1, 10, 1), "sent", false);
  // 2 Nov: Anu answers in 10 min, resolves after 2 h; rated 5.
  const c1 = s.conversation(nov(2, 9), { resolvedAt: nov(2, 11), assigneeId: A });
  s.inbound(c1, nov(2, 9));
  s.outbound(c1, nov(2, 9, 10), A);
  s.outbound(c1, nov(2, 9, 30), A);
  s.csat(c1, nov(2, 11), A, 5);
  s.draft(c1, nov(2, 9, 5), "sent", false);
  // 2 Nov 23:50: Rina answers at 00:20 on 3 Nov (still 2 Nov in UTC), 30 min; rated 3.
  const c2 = s.conversation(nov(2, 23, 50), { resolvedAt: nov(3, 1, 50), assigneeId: R });
  s.inbound(c2, nov(2, 23, 50));
  s.outbound(c2, nov(3, 0, 20), R);
  s.csat(c2, nov(3, 1, 50), R, 3);
  // 3 Nov: Anu's template opens it; the customer writes at 10:05, Anu answers at 10:25.
  const c3 = s.conversation(nov(3, 10), { assigneeId: A });
  s.outbound(c3, nov(3, 10), A);
  s.inbound(c3, nov(3, 10, 5));
  s.outbound(c3, nov(3, 10, 25), A);
  s.draft(c3, nov(3, 10, 20), "sent", true);
  // 3 Nov: Anu answers in 50 min, a former member writes too; resolved a day later, rated 4.
  const c4 = s.conversation(nov(3, 12), { resolvedAt: nov(4, 12), assigneeId: A });
  s.inbound(c4, nov(3, 12));
  s.outbound(c4, nov(3, 12, 50), A);
  s.outbound(c4, nov(3, 13), gone);
  s.csat(c4, nov(4, 12), A, 4);
  s.draft(c4, nov(3, 12, 10), "discarded");
  s.draft(c4, nov(3, 12, 15), "failed");
  // 4 Nov: only the system answers; resolved unassigned after 1 h; the CSAT question unanswered.
  const c5 = s.conversation(nov(4, 8), { resolvedAt: nov(4, 9) });
  s.inbound(c5, nov(4, 8));
  s.outbound(c5, nov(4, 8), null);
  s.csat(c5, nov(4, 9), null, null);
  s.draft(c5, nov(4, 8, 1), "ready");
  // The last minute of 4 Nov counts; midnight is 5 Nov (both are 4 Nov in UTC).
  s.conversation(nov(4, 23, 59));
  s.conversation(nov(5, 0, 0));

  // Another workspace, in New York, across the end of daylight saving time (1 Nov 2026, 02:00).
  const ny = await makeTeam({
    owner: "Nora York",
    workspace: { slug: nySlug, name: "York Shop", timezone: "America/New_York" },
  });
  const n = seeder(ny.ctx);
  n.conversation(Date.UTC(2026, 10, 1, 3, 30)); // 31 Oct 23:30 EDT
  n.conversation(Date.UTC(2026, 10, 1, 4, 30)); // 1 Nov 00:30 EDT
  n.conversation(Date.UTC(2026, 10, 2, 4, 30)); // 1 Nov 23:30 EST
  n.conversation(Date.UTC(2026, 10, 2, 5, 30)); // 2 Nov 00:30 EST

  server = await startServer();
  ({
    rina,
    viewer,
    marketer,
    agent,
    ny: nyOwner,
  } = await signInAll(server, {
    rina: owner,
    viewer: team.members.viewer,
    marketer: team.members.marketer,
    agent: anu,
    ny: ny.owner,
  }));
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

async function csvRows(browser: Browser, url: string): Promise<string[][]> {
  const res = await browser.get(url);
  expect(res.status, url).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/csv");
  return parseCsv(await res.text());
}

describe("the inbox report numbers", () => {
  it("counts each day on the workspace's clock, one CSV row per day", async () => {
    const rows = await csvRows(rina, `${csv}?${RANGE}`);
    expect(rows[0]).toEqual([
      "day",
      "conversations_started",
      "conversations_resolved",
      "replies_sent",
      "first_responses",
      "first_response_median_seconds",
      "first_response_p90_seconds",
      "resolution_median_seconds",
      "resolution_p90_seconds",
      "csat_asked",
      "csat_responses",
      "csat_average",
      "csat_satisfied_percent",
      "ai_drafts_accepted",
      "ai_drafts_edited",
      "ai_drafts_discarded",
      "ai_drafts_failed",
    ]);
    // Resolutions: 2 Nov 2 h and 24 h (median 13 h, p90 2 + 0.9 × 22 = 21.8 h); 3 Nov 2 h;
    // 4 Nov 1 h and 24 h (12.5 h, 21.7 h). First responses: 2 Nov 10 min; 3 Nov 20, 30 and
    // 50 min (median 30, p90 30 + 0.8 × 20 = 46 min).
    expect(rows.slice(1)).toEqual([
      [
        "2026-11-02",
        "2",
        "2",
        "3",
        "1",
        "600",
        "600",
        "46800",
        "78480",
        "1",
        "1",
        "5",
        "100",
        "1",
        "0",
        "0",
        "0",
      ],
      [
        "2026-11-03",
        "2",
        "1",
        "5",
        "3",
        "1800",
        "2760",
        "7200",
        "7200",
        "1",
        "1",
        "3",
        "0",
        "0",
        "1",
        "1",
        "1",
      ],
      [
        "2026-11-04",
        "2",
        "2",
        "0",
        "0",
        "",
        "",
        "45000",
        "78120",
        "2",
        "1",
        "4",
        "100",
        "0",
        "0",
        "0",
        "0",
      ],
    ]);
  });

  it("gives one CSV row per member, busiest first, formula-safe", async () => {
    const rows = await csvRows(rina, `${csv}?${RANGE}&table=agents`);
    expect(rows).toEqual([
      [
        "member",
        "email",
        "conversations_handled",
        "replies_sent",
        "first_responses",
        "first_response_median_seconds",
        "conversations_resolved",
        "csat_responses",
        "csat_average",
      ],
      // Anu: c1, c3, c4; first responses 10, 20, 50 min; resolved c1 and c4; rated 5 and 4.
      ["Anu Agent", anu.email, "3", "5", "3", "1200", "2", "2", "4.5"],
      // Rina: c0 (first answered on 1 Nov, so no first response here) and c2 (30 min).
      ["Rina Owner", owner.email, "2", "2", "1", "1800", "2", "1", "3"],
      ["Former member", "", "1", "1", "0", "", "0", "0", ""],
      // An agent with nothing on these days is still listed; the name cannot run as a formula.
      ["'=Bela Agent", expect.stringContaining("@example.com"), "0", "0", "0", "", "0", "0", ""],
    ]);
  });

  it("shows the totals, the charts, the members and the AI drafts on the page", async () => {
    const res = await rina.get(`${page}?${RANGE}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await textOf(res);
    const stat = (label: string) => new RegExp(`<dt>${label}</dt><dd>([^<]*)</dd>`).exec(html)?.[1];
    expect(stat("Conversations started")).toBe("6");
    expect(stat("Conversations resolved")).toBe("5");
    expect(stat("Replies sent")).toBe("8");
    // First responses 10, 20, 30, 50 min: median 25, p90 30 + 0.7 × 20 = 44.
    expect(stat("Median first response")).toBe("25 min");
    expect(stat("First response, 90th percentile")).toBe("44 min");
    // Resolutions 1, 2, 2, 24, 24 h.
    expect(stat("Median resolution time")).toBe("2 h");
    expect(stat("Resolution, 90th percentile")).toBe("1 d");
    expect(stat("CSAT average")).toBe("4.00 / 5");
    expect(stat("Satisfied \\(4–5\\)")).toBe("66.7%");
    expect(stat("CSAT responses")).toBe("3 of 4 asked");
    expect(stat("Sent as written")).toBe("1 (25%)");
    expect(stat("Edited, then sent")).toBe("1 (25%)");
    expect(stat("Discarded")).toBe("1 (25%)");
    expect(stat("Failed")).toBe("1 (25%)");
    expect(html).toContain("drafts that ended; 1 still open.");
    expect(html.match(/class="chart-svg"/g)?.length).toBe(5);
    expect(html).toContain("Anu Agent: 3, Rina Owner: 2, Former member: 1");
    expect(html).toContain('<th scope="row">=Bela Agent</th>');
    expect(html).toContain(`href="${csv}?${RANGE}"`);
    expect(html).toContain(`href="${csv}?${RANGE}&table=agents"`);
    expect(html).toContain("2 Nov 2026 to 4 Nov 2026, by day in Asia/Kolkata.");
  });

  it("takes a single day, and leaves a day without first responses as a gap", async () => {
    const rows = await csvRows(rina, `${csv}?from=2026-11-03&to=2026-11-03`);
    expect(rows.slice(1)).toEqual([
      [
        "2026-11-03",
        "2",
        "1",
        "5",
        "3",
        "1800",
        "2760",
        "7200",
        "7200",
        "1",
        "1",
        "3",
        "0",
        "0",
        "1",
        "1",
        "1",
      ],
    ]);
    const html = await textOf(await rina.get(`${page}?${RANGE}`));
    // 4 Nov has no first response: the median line stops at 3 Nov instead of dropping to 0.
    const firstResponseChart = html.split("First response time per day")[1]!.split("</svg>")[0]!;
    expect(firstResponseChart).toMatch(/<circle[^>]*><title>3 Nov: Median \(minutes\) 30</);
    expect(firstResponseChart).not.toMatch(/<circle[^>]*><title>4 Nov: Median/);
  });

  it("counts days across a daylight-saving change in the workspace's own zone", async () => {
    const res = await nyOwner.get(`/w/${nySlug}/inbox/reports.csv?from=2026-10-31&to=2026-11-02`);
    const rows = parseCsv(await res.text());
    expect(rows.slice(1).map((r) => [r[0], r[1]])).toEqual([
      ["2026-10-31", "1"],
      ["2026-11-01", "2"],
      ["2026-11-02", "1"],
    ]);
  });

  it("defaults to the last 30 days up to today in the workspace's zone", async () => {
    const rows = await csvRows(rina, csv);
    expect(rows).toHaveLength(31);
    const today = new Date(Date.now() + IST).toISOString().slice(0, 10);
    expect(rows.at(-1)![0]).toBe(today);
    expect(rows[1]![0]).toBe(
      new Date(Date.now() + IST - 29 * 24 * HOUR).toISOString().slice(0, 10),
    );
  });

  it("shows an empty state for days without inbox activity", async () => {
    const html = await textOf(await rina.get(`${page}?from=2026-01-01&to=2026-01-31`));
    expect(html).toContain("No inbox activity on these days");
    expect(html).not.toContain("chart-svg");
  });
});

describe("bad ranges and permissions", () => {
  it("refuses a range it cannot report with a 400 and a message, never a 500", async () => {
    const bad = [
      ["from=2026-13-01", "Enter the first day as YYYY-MM-DD"],
      ["from=2026-02-30&to=2026-03-01", "Enter the first day as YYYY-MM-DD"],
      ["to=yesterday", "Enter the last day as YYYY-MM-DD"],
      ["from=2026-11-05&to=2026-11-04", "The last day is before the first day."],
      ["from=2025-01-01&to=2026-01-02", "Choose at most 366 days."],
    ];
    for (const [query, message] of bad) {
      const res = await rina.get(`${page}?${query}`);
      expect(res.status, query).toBe(400);
      expect(await textOf(res), query).toContain(message);
      expect((await rina.get(`${csv}?${query}`)).status, `csv ${query}`).toBe(400);
    }
    expect((await rina.get(`${csv}?${RANGE}&table=contacts`)).status).toBe(400);
    // 366 days is the most: 1 Jan to 1 Jan of a 365-day year plus one.
    expect((await rina.get(`${page}?from=2025-01-01&to=2026-01-01`)).status).toBe(200);
  });

  it("lets viewers and marketers read the reports, not agents", async () => {
    for (const browser of [viewer, marketer]) {
      expect((await browser.get(`${page}?${RANGE}`)).status).toBe(200);
      expect((await browser.get(`${csv}?${RANGE}&table=agents`)).status).toBe(200);
    }
    expect((await agent.get(page)).status).toBe(403);
    expect((await agent.get(csv)).status).toBe(403);
    expect((await agent.get(`${csv}?table=agents`)).status).toBe(403);
  });

  it("never shows another workspace's numbers", async () => {
    expect((await nyOwner.get(`${page}?${RANGE}`)).status).toBe(404);
    expect((await nyOwner.get(`${csv}?${RANGE}`)).status).toBe(404);
    expect((await rina.get(`/w/${nySlug}/inbox/reports.csv`)).status).toBe(404);
    // The New York workspace's own report holds only its own four conversations.
    const rows = parseCsv(
      await (
        await nyOwner.get(`/w/${nySlug}/inbox/reports.csv?from=2026-10-01&to=2026-11-30`)
      ).text(),
    );
    expect(rows.slice(1).reduce((sum, r) => sum + Number(r[1]), 0)).toBe(4);
  });
});
