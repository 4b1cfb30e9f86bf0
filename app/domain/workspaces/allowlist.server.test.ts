import { asc, eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog, ipAllowlist, workspaces } from "~/db/schema/control";
import { NotFoundError, ValidationError } from "~/lib/errors";
import { verifyAuditChain } from "../audit/audit.server";
import { cliContext, type SystemContext } from "../context";
import {
  addAllowlistEntry,
  isIpAllowedForWorkspace,
  listAllowlist,
  MAX_ALLOWLIST_ENTRIES,
  removeAllowlistEntry,
  replaceAllowlist,
} from "./allowlist.server";

// vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
delete process.env.BASE_URL;

const OFFICE = "203.0.113.7";
const HOME = "2001:db8:1::42";
const NOW = new Date("2026-03-01T10:00:00Z");

function userAt(ip: string | undefined, request = true): SystemContext {
  return {
    actor: { type: "user", id: "usr_owner" },
    now: () => NOW,
    request: request ? { ip, userAgent: "vitest" } : undefined,
  };
}

const fromOffice = userAt(OFFICE);

let seq = 0;
let ws: string;
let other: string;

function createWorkspace(): string {
  seq += 1;
  const id = `ws_allow_${seq}`;
  getControlDb()
    .insert(workspaces)
    .values({ id, slug: `allow-${seq}`, name: `Allow ${seq}` })
    .run();
  return id;
}

function rawRows(workspaceId: string) {
  return getControlDb()
    .select()
    .from(ipAllowlist)
    .where(eq(ipAllowlist.workspaceId, workspaceId))
    .orderBy(asc(ipAllowlist.id))
    .all();
}

function auditFor(workspaceId: string) {
  return getControlDb()
    .select()
    .from(auditLog)
    .where(eq(auditLog.workspaceId, workspaceId))
    .orderBy(asc(auditLog.id))
    .all();
}

function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error("expected a ValidationError, nothing was thrown");
}

/** Runs a change that must be refused and checks it left the list and audit log untouched. */
function expectRefusedUnchanged(workspaceId: string, fn: () => unknown): ValidationError {
  const rowsBefore = rawRows(workspaceId);
  const auditBefore = auditFor(workspaceId).length;
  const error = validationError(fn);
  expect(rawRows(workspaceId)).toEqual(rowsBefore);
  expect(auditFor(workspaceId)).toHaveLength(auditBefore);
  return error;
}

beforeEach(() => {
  ws = createWorkspace();
  other = createWorkspace();
});

describe("addAllowlistEntry", () => {
  it("stores the canonical range, audits it and returns the entry", () => {
    const entry = addAllowlistEntry(fromOffice, ws, { cidr: " 203.0.113.7 ", label: " Office " });
    expect(entry).toEqual({
      id: expect.any(Number),
      cidr: "203.0.113.7/32",
      label: "Office",
      createdAt: NOW,
    });
    expect(listAllowlist(ws)).toEqual([entry]);
    const [audit] = auditFor(ws);
    expect(audit).toMatchObject({
      action: "ip_allowlist.added",
      actorType: "user",
      actorId: "usr_owner",
      targetType: "ip_allowlist_entry",
      targetId: String(entry.id),
      ip: OFFICE,
    });
    expect(JSON.parse(audit!.details!)).toEqual({ cidr: "203.0.113.7/32", label: "Office" });
    expect(verifyAuditChain().ok).toBe(true);
  });

  it("defaults the label to empty and normalises IPv6 and mapped input", () => {
    const fromHome = userAt(HOME);
    expect(addAllowlistEntry(fromHome, ws, { cidr: "2001:DB8:1::/48" }).cidr).toBe(
      "2001:db8:1::/48",
    );
    expect(addAllowlistEntry(fromHome, ws, { cidr: "::ffff:198.51.100.0/120" })).toMatchObject({
      cidr: "198.51.100.0/24",
      label: "",
    });
  });

  it("refuses an entry that would lock the requester out, changing nothing", () => {
    const error = expectRefusedUnchanged(ws, () =>
      addAllowlistEntry(fromOffice, ws, { cidr: "198.51.100.0/24", label: "VPN" }),
    );
    expect(error.message).toBe(
      "This change would lock you out: your current IP address (203.0.113.7) would not be in " +
        "the allowlist. Include an entry that covers it, or remove every entry to turn the " +
        "allowlist off.",
    );
  });

  it("recognises the requester behind an IPv4-mapped socket address", () => {
    const mapped = userAt(`::ffff:${OFFICE}`);
    expect(addAllowlistEntry(mapped, ws, { cidr: "203.0.113.0/24" }).cidr).toBe("203.0.113.0/24");
    const error = expectRefusedUnchanged(other, () =>
      addAllowlistEntry(mapped, other, { cidr: "198.51.100.0/24" }),
    );
    expect(error.message).toContain("(203.0.113.7)");
  });

  it("accepts an entry that does not cover the requester when another entry does", () => {
    addAllowlistEntry(fromOffice, ws, { cidr: OFFICE });
    expect(addAllowlistEntry(fromOffice, ws, { cidr: "198.51.100.0/24" }).cidr).toBe(
      "198.51.100.0/24",
    );
  });

  it("refuses duplicates, including the same range written differently", () => {
    addAllowlistEntry(fromOffice, ws, { cidr: "203.0.113.0/24", label: "Office" });
    for (const cidr of ["203.0.113.0/24", " 203.0.113.0/24", "::ffff:203.0.113.0/120"]) {
      const error = expectRefusedUnchanged(ws, () => addAllowlistEntry(fromOffice, ws, { cidr }));
      expect(error.message).toBe("203.0.113.0/24 is already on the allowlist.");
      expect(error.fieldErrors).toEqual({ cidr: [error.message] });
    }
  });

  it("lets two workspaces hold the same range", () => {
    addAllowlistEntry(fromOffice, ws, { cidr: OFFICE });
    addAllowlistEntry(fromOffice, other, { cidr: OFFICE });
    expect(listAllowlist(ws)).toHaveLength(1);
    expect(listAllowlist(other)).toHaveLength(1);
  });

  it("refuses bad ranges and labels with field messages", () => {
    const bad = expectRefusedUnchanged(ws, () =>
      addAllowlistEntry(fromOffice, ws, { cidr: "10.0.0.5/24" }),
    );
    expect(bad.message).toContain("has bits set after the /24 prefix");
    expect(bad.fieldErrors.cidr).toEqual([bad.message]);

    const junk = expectRefusedUnchanged(ws, () =>
      addAllowlistEntry(fromOffice, ws, { cidr: "office" }),
    );
    expect(junk.message).toContain('"office" is not a valid IP address or CIDR range');

    const long = expectRefusedUnchanged(ws, () =>
      addAllowlistEntry(fromOffice, ws, { cidr: OFFICE, label: "x".repeat(101) }),
    );
    expect(long.message).toBe("Keep the label to 100 characters or fewer.");
    expect(long.fieldErrors).toEqual({ label: [long.message] });

    const control = expectRefusedUnchanged(ws, () =>
      addAllowlistEntry(fromOffice, ws, { cidr: OFFICE, label: "a\nb" }),
    );
    expect(control.fieldErrors.label).toBeDefined();
  });

  it("accepts a label of exactly 100 characters, counting characters not UTF-16 units", () => {
    expect(
      addAllowlistEntry(fromOffice, ws, { cidr: OFFICE, label: "é".repeat(100) }).label,
    ).toHaveLength(100);
    expect(
      addAllowlistEntry(fromOffice, other, { cidr: OFFICE, label: "🙂".repeat(100) }).label,
    ).toBe("🙂".repeat(100));
  });

  it("holds at most 100 entries", () => {
    addAllowlistEntry(fromOffice, ws, { cidr: OFFICE });
    for (let i = 1; i < MAX_ALLOWLIST_ENTRIES; i++) {
      addAllowlistEntry(fromOffice, ws, { cidr: `10.0.${i}.0/24` });
    }
    expect(listAllowlist(ws)).toHaveLength(100);
    const error = expectRefusedUnchanged(ws, () =>
      addAllowlistEntry(fromOffice, ws, { cidr: "10.1.0.0/16" }),
    );
    expect(error.message).toContain("at most 100 entries");
  });

  it("refuses a change it cannot check: a request without an IP", () => {
    const error = expectRefusedUnchanged(ws, () =>
      addAllowlistEntry(userAt(undefined), ws, { cidr: OFFICE }),
    );
    expect(error.message).toContain("Your IP address could not be determined");
    expect(() => addAllowlistEntry(userAt(undefined, false), ws, { cidr: OFFICE })).toThrow(
      ValidationError,
    );
    expect(rawRows(ws)).toEqual([]);
  });

  it("lets the operator CLI (no request) change the list: the lock-out recovery path", () => {
    const entry = addAllowlistEntry(
      cliContext(() => NOW),
      ws,
      { cidr: "198.51.100.0/24" },
    );
    expect(listAllowlist(ws)).toEqual([entry]);
    expect(auditFor(ws)[0]).toMatchObject({ actorType: "cli", ip: null });
  });

  it("throws NotFoundError for a workspace that does not exist", () => {
    expect(() => addAllowlistEntry(fromOffice, "ws_missing", { cidr: OFFICE })).toThrow(
      NotFoundError,
    );
  });
});

describe("removeAllowlistEntry", () => {
  it("removes the entry and audits it", () => {
    const office = addAllowlistEntry(fromOffice, ws, { cidr: OFFICE, label: "Office" });
    const vpn = addAllowlistEntry(fromOffice, ws, { cidr: "198.51.100.0/24", label: "VPN" });
    removeAllowlistEntry(fromOffice, ws, vpn.id);
    expect(listAllowlist(ws)).toEqual([office]);
    const last = auditFor(ws).at(-1)!;
    expect(last).toMatchObject({
      action: "ip_allowlist.removed",
      targetType: "ip_allowlist_entry",
      targetId: String(vpn.id),
    });
    expect(JSON.parse(last.details!)).toEqual({ cidr: "198.51.100.0/24", label: "VPN" });
  });

  it("lets the last entry go: an empty list turns the allowlist off", () => {
    const office = addAllowlistEntry(fromOffice, ws, { cidr: OFFICE });
    removeAllowlistEntry(fromOffice, ws, office.id);
    expect(listAllowlist(ws)).toEqual([]);
    expect(isIpAllowedForWorkspace(ws, "192.0.2.1")).toBe(true);
  });

  it("refuses to remove the entry that covers the requester while others remain", () => {
    const office = addAllowlistEntry(fromOffice, ws, { cidr: OFFICE });
    addAllowlistEntry(fromOffice, ws, { cidr: "198.51.100.0/24" });
    const error = expectRefusedUnchanged(ws, () => removeAllowlistEntry(fromOffice, ws, office.id));
    expect(error.message).toContain("would lock you out");
  });

  it("treats another workspace's entry, or no entry, as not found", () => {
    const theirs = addAllowlistEntry(fromOffice, other, { cidr: OFFICE });
    expect(() => removeAllowlistEntry(fromOffice, ws, theirs.id)).toThrow(NotFoundError);
    expect(() => removeAllowlistEntry(fromOffice, ws, 999_999)).toThrow(NotFoundError);
    expect(() => removeAllowlistEntry(fromOffice, ws, Number.NaN)).toThrow(NotFoundError);
    expect(listAllowlist(other)).toEqual([theirs]);
  });
});

describe("replaceAllowlist", () => {
  it("sets the list, keeping unchanged entries' ids and creation times, and audits once", () => {
    const earlier = new Date("2026-01-01T00:00:00Z");
    const office = addAllowlistEntry({ ...fromOffice, now: () => earlier }, ws, {
      cidr: OFFICE,
      label: "Old",
    });
    addAllowlistEntry(fromOffice, ws, { cidr: "198.51.100.0/24", label: "VPN" });
    const auditBefore = auditFor(ws).length;

    const result = replaceAllowlist(fromOffice, ws, [
      { cidr: "203.0.113.7/32", label: "Office" },
      { cidr: "2001:db8::/32", label: "IPv6" },
    ]);
    expect(result).toEqual([
      { id: office.id, cidr: "203.0.113.7/32", label: "Office", createdAt: earlier },
      { id: expect.any(Number), cidr: "2001:db8::/32", label: "IPv6", createdAt: NOW },
    ]);
    expect(listAllowlist(ws)).toEqual(result);

    const audits = auditFor(ws).slice(auditBefore);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      action: "ip_allowlist.replaced",
      targetType: "workspace",
      targetId: ws,
    });
    expect(JSON.parse(audits[0]!.details!)).toEqual({
      entries: [
        { cidr: "203.0.113.7/32", label: "Office" },
        { cidr: "2001:db8::/32", label: "IPv6" },
      ],
      added: ["2001:db8::/32"],
      removed: ["198.51.100.0/24"],
    });
    expect(verifyAuditChain().ok).toBe(true);
  });

  it("clears the list with an empty replacement", () => {
    addAllowlistEntry(fromOffice, ws, { cidr: OFFICE });
    expect(replaceAllowlist(fromOffice, ws, [])).toEqual([]);
    expect(auditFor(ws).at(-1)!.action).toBe("ip_allowlist.replaced");
  });

  it("refuses a list that would lock the requester out, changing nothing", () => {
    addAllowlistEntry(fromOffice, ws, { cidr: OFFICE, label: "Office" });
    const error = expectRefusedUnchanged(ws, () =>
      replaceAllowlist(fromOffice, ws, [{ cidr: "198.51.100.0/24" }, { cidr: "2001:db8::/32" }]),
    );
    expect(error.message).toContain("This change would lock you out");
  });

  it("refuses duplicates within the list, naming both entries", () => {
    const error = expectRefusedUnchanged(ws, () =>
      replaceAllowlist(fromOffice, ws, [
        { cidr: OFFICE },
        { cidr: "10.0.0.0/8" },
        { cidr: `${OFFICE}/32` },
      ]),
    );
    expect(error.message).toBe(
      "Entry 3 (203.0.113.7/32) is the same range as entry 1; list each range once.",
    );
    expect(error.fieldErrors).toEqual({ "entries.2.cidr": [error.message] });
  });

  it("refuses the whole list when one entry is bad, naming it", () => {
    addAllowlistEntry(fromOffice, ws, { cidr: OFFICE });
    const error = expectRefusedUnchanged(ws, () =>
      replaceAllowlist(fromOffice, ws, [
        { cidr: OFFICE },
        { cidr: "10.0.0.0/8", label: "y".repeat(101) },
      ]),
    );
    expect(error.message).toBe("Entry 2: Keep the label to 100 characters or fewer.");
    expect(error.fieldErrors).toEqual({
      "entries.1.label": ["Keep the label to 100 characters or fewer."],
    });

    const junk = expectRefusedUnchanged(ws, () =>
      replaceAllowlist(fromOffice, ws, [{ cidr: "1.2.3" }]),
    );
    expect(junk.message).toMatch(/^Entry 1: "1\.2\.3" is not a valid IP address or CIDR range/);
  });

  it("refuses more than 100 entries and accepts exactly 100", () => {
    const hundred = [
      { cidr: OFFICE },
      ...Array.from({ length: 99 }, (_, i) => ({ cidr: `10.0.${i}.0/24` })),
    ];
    const error = expectRefusedUnchanged(ws, () =>
      replaceAllowlist(fromOffice, ws, [...hundred, { cidr: "10.1.0.0/16" }]),
    );
    expect(error.message).toContain("at most 100 entries");
    expect(replaceAllowlist(fromOffice, ws, hundred)).toHaveLength(100);
  });

  it("throws NotFoundError for a workspace that does not exist", () => {
    expect(() => replaceAllowlist(fromOffice, "ws_missing", [{ cidr: OFFICE }])).toThrow(
      NotFoundError,
    );
  });
});

describe("isIpAllowedForWorkspace", () => {
  it("allows everyone while the list is empty", () => {
    expect(isIpAllowedForWorkspace(ws, "192.0.2.1")).toBe(true);
    expect(isIpAllowedForWorkspace(ws, "2001:db8::1")).toBe(true);
  });

  it("allows only addresses inside an entry of that workspace", () => {
    replaceAllowlist(fromOffice, ws, [{ cidr: "203.0.113.0/24" }, { cidr: "2001:db8::/32" }]);
    addAllowlistEntry(fromOffice, other, { cidr: OFFICE });
    addAllowlistEntry(fromOffice, other, { cidr: "198.51.100.0/24" });

    expect(isIpAllowedForWorkspace(ws, "203.0.113.200")).toBe(true);
    expect(isIpAllowedForWorkspace(ws, "::ffff:203.0.113.9")).toBe(true);
    expect(isIpAllowedForWorkspace(ws, "2001:db8:ffff::1")).toBe(true);
    expect(isIpAllowedForWorkspace(ws, "fe80::1%eth0")).toBe(false);
    // On the other workspace's list only.
    expect(isIpAllowedForWorkspace(ws, "198.51.100.10")).toBe(false);
    expect(isIpAllowedForWorkspace(other, "198.51.100.10")).toBe(true);
    expect(isIpAllowedForWorkspace(other, "203.0.113.200")).toBe(false);
    expect(isIpAllowedForWorkspace(ws, "")).toBe(false);
    expect(isIpAllowedForWorkspace(ws, "not an ip")).toBe(false);
  });
});
