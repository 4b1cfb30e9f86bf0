import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { workspaces } from "~/db/schema/control";
import { campaigns, messages } from "~/db/schema/tenant";
import {
  createCampaign,
  deleteCampaign,
  getCampaign,
  type CampaignContext,
} from "~/domain/campaigns/campaigns.server";
import { addSuppression } from "~/domain/contacts/suppressions.server";
import { saveTemplate } from "~/domain/templates/templates.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import type { Browser, TestUser } from "../support/accounts";
import { addToList, giveConsent, insertContact, listId } from "../support/contacts";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * The campaign pages through the real server (with its dispatcher and campaign runner), as a
 * browser without JavaScript uses them: the wizard step by step, the review's numbers on a
 * crafted audience, sending in the sandbox until the progress JSON shows everyone sent,
 * four-eyes approval, pause/resume/cancel, deleting a draft, and what a viewer may do.
 */

const slug = "campaign-pages";
const base = `/w/${slug}/campaigns`;

let server: TestServer;
let owner: TestUser;
let adminUser: TestUser;
let viewerUser: TestUser;
let workspace: Workspace;
let ctx: CampaignContext;
let alice: Browser;
let admin: Browser;
let viewer: Browser;
let smsTemplate: number;
let emailTemplate: number;
let audienceList: number;

function campaignCount(): number {
  return ctx.db.select().from(campaigns).all().length;
}

/** Follows one wizard step: POST its fields, expect the redirect, return the next URL. */
async function step(url: string, fields: Record<string, string>): Promise<string> {
  const res = await alice.post(url, fields);
  expect(res.status, await res.clone().text()).toBe(302);
  return res.headers.get("location")!;
}

/** The answers a step URL carries, as form fields (what the page puts in hidden inputs). */
function carried(url: string): Record<string, string> {
  const params = new URL(url, "http://x").searchParams;
  params.delete("step");
  return Object.fromEntries(params);
}

function inFuture(hours: number): { date: string; time: string } {
  // Workspace time zone: Asia/Kolkata, UTC+05:30 all year.
  const wall = new Date(Date.now() + hours * 3_600_000 + 5.5 * 3_600_000).toISOString();
  return { date: wall.slice(0, 10), time: wall.slice(11, 16) };
}

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Anita Owner",
    workspace: { slug, name: "Campaign Pages Co" },
    members: {
      admin: { name: "Bala Admin", role: "admin" },
      viewer: { name: "Vani Viewer", role: "viewer" },
    },
  });
  ({ owner, workspace } = team);
  ({ admin: adminUser, viewer: viewerUser } = team.members);
  ctx = {
    ...team.ctx,
    userId: owner.id,
  };
  // Five contacts on SMS: three may get it, one is suppressed, one never consented.
  const ids = [1, 2, 3, 4, 5].map((n) =>
    insertContact(ctx.db, {
      name: `Ravi ${n}`,
      phone: `+9198200000${n.toString().padStart(2, "0")}`,
      country: "IN",
    }),
  );
  for (const id of ids.slice(0, 4)) giveConsent(ctx.db, id, "sms", "granted");
  addSuppression(ctx, { identifier: "+919820000004", channel: "sms" });
  for (const id of ids) addToList(ctx.db, id, "Festival buyers");
  audienceList = listId(ctx.db, "Festival buyers");
  smsTemplate = saveTemplate(ctx, {
    channel: "sms",
    name: "Festival offer",
    text: "Hi {{ first_name }}, 20% off today",
  }).id;
  emailTemplate = saveTemplate(ctx, {
    channel: "email",
    name: "Newsletter",
    subject: "News",
    preheader: null,
    blocks: [{ type: "paragraph", text: "Hello" }],
    trackLinks: false,
  }).id;
  server = await startServer({
    env: { JOBS_ENABLED: "true" },
  });
  ({ alice, admin, viewer } = await signInAll(server, {
    alice: owner,
    admin: adminUser,
    viewer: viewerUser,
  }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("campaign list", () => {
  it("starts empty with a New campaign link", async () => {
    const res = await alice.get(base);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await textOf(res);
    expect(html).toContain("No campaigns yet");
    expect(html).toContain(`href="${base}/new"`);
    // A viewer sees the list but not the button.
    const asViewer = await textOf(await viewer.get(base));
    expect(asViewer).toContain("No campaigns yet");
    expect(asViewer).not.toContain(`href="${base}/new"`);
  });
});

describe("the wizard", () => {
  let reviewUrl: string;
  let campaignId: number;

  it("refuses bad input at every step with the message and stores nothing", async () => {
    const start = await textOf(await alice.get(`${base}/new`));
    expect(start).toMatch(/aria-current="step"[^>]*>1\. Channel/);

    let res = await alice.post(`${base}/new`, { step: "channel", name: "", channel: "sms" });
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain("Name the campaign.");
    res = await alice.post(`${base}/new`, { step: "channel", name: "X", channel: "fax" });
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain("Choose a channel.");

    const audience = await step(`${base}/new`, {
      step: "channel",
      name: "Festival SMS",
      channel: "sms",
    });
    const audiencePage = await textOf(await alice.get(audience));
    expect(audiencePage).toMatch(/aria-current="step"[^>]*>2\. Audience/);
    expect(audiencePage).toContain("List: Festival buyers");
    expect(audiencePage).toContain("(5 contacts)");
    res = await alice.post(audience, {
      ...carried(audience),
      step: "audience",
      audience: "list:999999",
    });
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain("That segment or list no longer exists.");

    const template = await step(audience, {
      ...carried(audience),
      step: "audience",
      audience: `list:${audienceList}`,
    });
    const templatePage = await textOf(await alice.get(template));
    expect(templatePage).toContain("Festival offer");
    // Only the channel's templates are offered.
    expect(templatePage).not.toContain(">Newsletter<");
    res = await alice.post(template, {
      ...carried(template),
      step: "template",
      templateA: String(emailTemplate),
    });
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain("is a Email template; choose one for this channel.");
    res = await alice.post(template, {
      ...carried(template),
      step: "template",
      templateA: String(smsTemplate),
      abTest: "on",
      samplePercent: "90",
      metric: "clicked",
      decideAfterMinutes: "60",
    });
    expect(res.status).toBe(400);
    const abErrors = await textOf(res);
    expect(abErrors).toContain("An A/B test needs at least two templates.");
    expect(abErrors).toContain("The sample is a whole percentage from 2 to 50.");

    const schedule = await step(template, {
      ...carried(template),
      step: "template",
      templateA: String(smsTemplate),
    });
    const past = inFuture(-2);
    res = await alice.post(schedule, {
      ...carried(schedule),
      step: "schedule",
      when: "at",
      ...past,
    });
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain("That time has passed in the workspace's time zone");
    res = await alice.post(schedule, {
      ...carried(schedule),
      step: "schedule",
      when: "now",
      throttle: "0",
    });
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain("Enter whole messages per second from 1 to 100,000");
    // A hand-made URL for a later step goes back to the first unanswered one.
    const skipped = await alice.get(`${base}/new?step=schedule&name=Sneaky&channel=sms`);
    expect(skipped.status).toBe(302);
    expect(skipped.headers.get("location")).toContain("step=audience");
    expect(campaignCount()).toBe(0);

    // Back keeps the answers; a reload of a step URL shows them again.
    const back = await alice.post(schedule, {
      ...carried(schedule),
      step: "schedule",
      intent: "back",
    });
    expect(back.status).toBe(302);
    const backPage = await textOf(await alice.get(back.headers.get("location")!));
    expect(backPage).toMatch(/aria-current="step"[^>]*>3\. Template/);
    expect(backPage).toMatch(new RegExp(`<option value="${smsTemplate}" selected`));
    expect(await textOf(await alice.get(audience))).toContain('value="Festival SMS"');

    reviewUrl = await step(schedule, { ...carried(schedule), step: "schedule", when: "now" });
    expect(reviewUrl).toMatch(new RegExp(`^${base}/\\d+/review$`));
    campaignId = Number(/(\d+)\/review$/.exec(reviewUrl)![1]);
    expect(getCampaign(ctx, campaignId)).toMatchObject({ status: "draft", name: "Festival SMS" });
  });

  it("reviews before anything is queued: audience, skips by reason, cost, duration", async () => {
    const res = await alice.get(reviewUrl);
    expect(res.status).toBe(200);
    const html = await textOf(res);
    expect(html).toMatch(/data-testid="review-audience">5</);
    expect(html).toMatch(/data-testid="review-eligible">3</);
    expect(html).toMatch(
      /data-testid="skip-suppressed"><th scope="row">On the suppression list<\/th><td>1</,
    );
    expect(html).toMatch(
      /data-testid="skip-no_consent"><th scope="row">No marketing consent on this channel<\/th><td>1</,
    );
    expect(html).not.toContain('data-testid="skip-no_address"');
    // SMS to India: 3 recipients × 1 segment × ₹0.20.
    expect(html).toMatch(/data-testid="review-cost">₹0\.60</);
    expect(html).toMatch(
      /<th scope="row">IN<\/th><td>segment<\/td><td>3<\/td><td>₹0\.20<\/td><td>₹0\.60<\/td>/,
    );
    expect(html).toContain('data-testid="review-duration">1 second<');
    expect(html).toContain("No approval needed");
    expect(html).toContain(">Send campaign<");
    expect(html).toContain(">Edit<");
    expect(ctx.db.$client.prepare("SELECT count(*) FROM messages").pluck().get()).toBe(0);
    // A viewer sees the review but no buttons.
    const asViewer = await viewer.get(reviewUrl);
    expect(asViewer.status).toBe(200);
    expect(await textOf(asViewer)).not.toContain(">Send campaign<");
    expect((await viewer.post(reviewUrl, { intent: "send" })).status).toBe(403);
  });

  it("sends in the sandbox; the progress JSON reaches everyone sent", async () => {
    const res = await alice.post(reviewUrl, { intent: "send" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${base}/${campaignId}`);
    let progress: { status: string; percent: number; counts: Record<string, number> } | null = null;
    for (let i = 0; i < 100; i++) {
      const answer = await alice.get(`${base}/${campaignId}/progress`);
      expect(answer.status).toBe(200);
      progress = (await answer.json()) as typeof progress;
      if (progress!.status === "completed") break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(progress, JSON.stringify(progress)).toMatchObject({
      status: "completed",
      percent: 100,
      total: 3,
      audience: 5,
      queued: 5,
      counts: { sent: 3, delivered: 3, failed: 0, skipped: 2, waiting: 0 },
    });
    const page = await textOf(await alice.get(`${base}/${campaignId}`));
    expect(page).toMatch(/role="progressbar"[^>]*aria-valuenow="100"/);
    expect(page).toContain(`href="${base}/${campaignId}/report"`);
    expect(page).toContain("by Anita Owner");
    // The review is no longer reachable for a sent campaign: it goes to the campaign page.
    const review = await alice.get(reviewUrl);
    expect(review.status).toBe(302);
    const list = await textOf(await alice.get(base));
    expect(list).toContain("Festival SMS");
    expect(list).toContain("5 / 5");
  });
});

describe("approval, pause, resume, cancel, delete", () => {
  function draft(name: string, schedule: Record<string, unknown> = { type: "now" }): number {
    return createCampaign(ctx, {
      name,
      channel: "sms",
      audience: { type: "list", id: audienceList },
      variants: [{ key: "A", templateId: smsTemplate }],
      schedule,
    }).id;
  }

  it("over the threshold, the creator cannot approve; another admin can", async () => {
    getControlDb()
      .update(workspaces)
      .set({ approvalThreshold: 2 })
      .where(eq(workspaces.id, workspace.id))
      .run();
    const at = inFuture(3);
    const id = draft("Big festival", { type: "at", at: Date.now() + 3 * 3_600_000 });
    expect(at.date).toMatch(/^\d{4}-/);
    const review = await textOf(await alice.get(`${base}/${id}/review`));
    expect(review).toContain("Needs approval");
    expect(review).toContain(">Submit for approval<");
    expect((await alice.post(`${base}/${id}/review`, { intent: "send" })).status).toBe(302);
    expect(getCampaign(ctx, id).status).toBe("pending_approval");

    const list = await textOf(await alice.get(base));
    expect(list).toMatch(/<tr class="row-attention"><th scope="row"><a [^>]*>Big festival/);

    const ownPage = await textOf(await alice.get(`${base}/${id}`));
    expect(ownPage).toContain("You created this campaign, so you cannot approve it");
    expect(ownPage).not.toContain(">Approve campaign<");
    const refused = await alice.post(`${base}/${id}`, { intent: "approve" });
    expect(refused.status).toBe(403);
    expect(await textOf(refused)).toContain("Another admin must approve a campaign you created.");
    expect(getCampaign(ctx, id).status).toBe("pending_approval");
    expect((await viewer.post(`${base}/${id}`, { intent: "approve" })).status).toBe(403);

    expect(await textOf(await admin.get(`${base}/${id}`))).toContain(">Approve campaign<");
    const approved = await admin.post(`${base}/${id}`, { intent: "approve" });
    expect(approved.status).toBe(302);
    expect(getCampaign(ctx, id)).toMatchObject({ status: "scheduled", approvedBy: adminUser.id });
    expect(await textOf(await alice.get(`${base}/${id}`))).toContain("by Bala Admin");
    getControlDb()
      .update(workspaces)
      .set({ approvalThreshold: null })
      .where(eq(workspaces.id, workspace.id))
      .run();

    // Pause, resume, then cancel after the confirmation step.
    expect((await viewer.post(`${base}/${id}`, { intent: "pause" })).status).toBe(403);
    expect((await alice.post(`${base}/${id}`, { intent: "pause" })).status).toBe(302);
    expect(getCampaign(ctx, id).status).toBe("paused");
    expect(await textOf(await alice.get(`${base}/${id}`))).toContain(">Resume<");
    expect((await alice.post(`${base}/${id}`, { intent: "resume" })).status).toBe(302);
    expect(getCampaign(ctx, id).status).toBe("scheduled");
    const confirm = await textOf(await alice.get(`${base}/${id}?confirm=cancel`));
    expect(confirm).toContain("Cancel this campaign?");
    expect(getCampaign(ctx, id).status).toBe("scheduled");
    expect((await viewer.post(`${base}/${id}`, { intent: "cancel" })).status).toBe(403);
    expect((await alice.post(`${base}/${id}`, { intent: "cancel" })).status).toBe(302);
    expect(getCampaign(ctx, id).status).toBe("cancelled");
    const again = await alice.post(`${base}/${id}`, { intent: "resume" });
    expect(again.status).toBe(409);
    expect(await textOf(again)).toContain("This campaign is not paused.");
  });

  it("a list that grows after approval sends nothing: the campaign needs review and approval again", async () => {
    getControlDb()
      .update(workspaces)
      .set({ approvalThreshold: 2 })
      .where(eq(workspaces.id, workspace.id))
      .run();
    const person = (n: number) => {
      const id = insertContact(ctx.db, {
        name: `Late ${n}`,
        phone: `+9198300000${n.toString().padStart(2, "0")}`,
        country: "IN",
      });
      giveConsent(ctx.db, id, "sms", "granted");
      addToList(ctx.db, id, "Growing list");
      return id;
    };
    [1, 2, 3].forEach(person);
    const id = createCampaign(ctx, {
      name: "Growing festival",
      channel: "sms",
      audience: { type: "list", id: listId(ctx.db, "Growing list") },
      variants: [{ key: "A", templateId: smsTemplate }],
      schedule: { type: "now" },
    }).id;
    expect(await textOf(await alice.get(`${base}/${id}/review`))).toContain("Needs approval");
    expect((await alice.post(`${base}/${id}/review`, { intent: "send" })).status).toBe(302);
    // The approver sees 3; three more join before it goes out.
    expect(await textOf(await admin.get(`${base}/${id}`))).toContain("It reaches 3 people");
    [4, 5, 6].forEach(person);
    expect((await admin.post(`${base}/${id}`, { intent: "approve" })).status).toBe(302);
    for (let i = 0; i < 100 && getCampaign(ctx, id).status !== "draft"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(getCampaign(ctx, id)).toMatchObject({ status: "draft", approvedBy: null, review: null });
    expect(ctx.db.select().from(messages).where(eq(messages.campaignId, id)).all()).toEqual([]);
    const page = await textOf(await alice.get(`${base}/${id}`));
    expect(page).toContain(
      "Not sent: its audience grew after it was reviewed and approved (6 people can receive it now; the review counted 3). Nothing was queued.",
    );
    expect(page).toContain(">Review and send<");
    // The fresh review shows the new number and asks for approval again.
    const review = await textOf(await alice.get(`${base}/${id}/review`));
    expect(review).toMatch(/data-testid="review-eligible">6</);
    expect(review).toContain(">Submit for approval<");
    deleteCampaign(ctx, id);
    getControlDb()
      .update(workspaces)
      .set({ approvalThreshold: null })
      .where(eq(workspaces.id, workspace.id))
      .run();
  });

  it("edits a draft through the wizard and deletes it after a confirmation", async () => {
    const id = draft("Draft to edit");
    const review = await textOf(await alice.get(`${base}/${id}/review`));
    const edit = /href="([^"]*\/campaigns\/new\?[^"]*draft=\d+[^"]*)">Edit</.exec(review)?.[1];
    expect(edit).toBeDefined();
    const editUrl = edit!;
    const first = await textOf(await alice.get(editUrl));
    expect(first).toContain("Edit campaign");
    expect(first).toContain('value="Draft to edit"');
    const next = await step(editUrl, {
      ...carried(editUrl),
      step: "channel",
      name: "Edited draft",
    });
    expect(next).toContain(`draft=${id}`);
    let url = next;
    for (const stepName of ["audience", "template", "schedule"]) {
      url = await step(url, { ...carried(url), step: stepName });
    }
    expect(url).toBe(`${base}/${id}/review`);
    expect(getCampaign(ctx, id).name).toBe("Edited draft");
    expect(campaignCount()).toBe(3);

    expect((await viewer.post(`${base}/${id}`, { intent: "delete" })).status).toBe(403);
    expect(await textOf(await alice.get(`${base}/${id}?confirm=delete`))).toContain(
      "Delete this draft?",
    );
    const deleted = await alice.post(`${base}/${id}`, { intent: "delete" });
    expect(deleted.status).toBe(302);
    expect(deleted.headers.get("location")).toBe(base);
    expect((await alice.get(`${base}/${id}`)).status).toBe(404);
    // Only drafts can be deleted.
    const sent = ctx.db.select().from(campaigns).all()[0]!;
    const refused = await alice.post(`${base}/${sent.id}`, { intent: "delete" });
    expect(refused.status).toBe(409);
  });

  it("answers 404 for unknown or garbage ids and keeps viewers read-only", async () => {
    for (const path of ["abc", "999999", "0", "1e3"]) {
      expect((await alice.get(`${base}/${path}`)).status, path).toBe(404);
      expect((await alice.get(`${base}/${path}/progress`)).status, path).toBe(404);
      expect((await alice.get(`${base}/${path}/review`)).status, path).toBe(404);
    }
    expect((await alice.get(`${base}/new?draft=abc`)).status).toBe(404);
    expect((await viewer.get(`${base}/new`)).status).toBe(403);
    expect(
      (await viewer.post(`${base}/new`, { step: "channel", name: "V", channel: "sms" })).status,
    ).toBe(403);
    const id = ctx.db.select().from(campaigns).all()[0]!.id;
    expect((await viewer.get(`${base}/${id}`)).status).toBe(200);
    expect((await viewer.get(`${base}/${id}/progress`)).status).toBe(200);
    const filtered = await textOf(await alice.get(`${base}?status=cancelled`));
    expect(filtered).toContain("Big festival");
    expect(filtered).not.toContain("Festival SMS");
  });
});
