import { beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { updateWorkspaceSettings } from "~/domain/workspaces/workspaces.server";
import { runCli } from "../support/server";
import { makeWorkspace } from "../support/workspaces";

/** `npm run engage -- billing quote`, against this test file's DATA_DIR. */

const env = () => ({ DATA_DIR: process.env.DATA_DIR! });
const quote = (...args: string[]) => runCli(["billing", "quote", ...args], env());
const KARNATAKA = "29AAGCB7383J1Z4";
const MAHARASHTRA = "27AAPFU0939F1ZV";

describe("npm run engage -- billing quote", () => {
  beforeAll(async () => {
    await makeWorkspace("quote-in");
    const us = await makeWorkspace("quote-us");
    updateWorkspaceSettings(us, us.workspaceId, {
      name: "Shop quote-us",
      country: "US",
      timezone: "America/New_York",
      currency: "USD",
    });
  });

  it("prints the exact breakdown for a customer in the supplier's state: CGST + SGST", async () => {
    const result = await quote(
      "--workspace",
      "quote-in",
      "--plan",
      "growth",
      "--gstin",
      KARNATAKA,
      "--supplier-state",
      "29",
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.json).toHaveLength(1);
    expect(result.json[0]).toMatchObject({
      workspace: "quote-in",
      plan: "growth",
      interval: "month",
      currency: "INR",
      effective: "now",
      subtotal: 599_900,
      cgst: 53_991,
      sgst: 53_991,
      igst: 0,
      total: 707_882,
      tax: { kind: "intra_state", placeOfSupply: "29", gstin: KARNATAKA, zeroRatedUnderLut: false },
    });
  });

  it("another state pays IGST; a yearly plan is ten months", async () => {
    const byGstin = await quote(
      "--workspace",
      "quote-in",
      "--plan",
      "starter",
      "--interval",
      "year",
      "--gstin",
      MAHARASHTRA,
      "--supplier-state",
      "29",
    );
    expect(byGstin.json[0]).toMatchObject({
      subtotal: 1_999_000,
      cgst: 0,
      sgst: 0,
      igst: 359_820,
      total: 2_358_820,
    });
    const byState = await quote(
      "--workspace",
      "quote-in",
      "--plan",
      "starter",
      "--state",
      "07",
      "--supplier-state",
      "29",
    );
    expect(byState.json[0]).toMatchObject({ subtotal: 199_900, igst: 35_982, total: 235_882 });
  });

  it("a workspace abroad gets a zero-rated export quote in USD", async () => {
    const result = await quote(
      "--workspace",
      "quote-us",
      "--plan",
      "business",
      "--interval",
      "year",
    );
    expect(result.code).toBe(0);
    expect(result.json[0]).toMatchObject({
      currency: "USD",
      subtotal: 199_000,
      cgst: 0,
      sgst: 0,
      igst: 0,
      total: 199_000,
      tax: { kind: "export", zeroRatedUnderLut: true },
    });
  });

  it("refuses bad input with one clear line and exit code 2, storing nothing", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["--workspace", "quote-in", "--plan", "gold", "--supplier-state", "29"],
        /^error: --plan: no plan "gold"; choose starter, growth, business$/,
      ],
      [
        [
          "--workspace",
          "quote-in",
          "--plan",
          "growth",
          "--interval",
          "week",
          "--supplier-state",
          "29",
        ],
        /^error: --interval: choose month or year, not "week"$/,
      ],
      [
        [
          "--workspace",
          "quote-in",
          "--plan",
          "growth",
          "--gstin",
          "29AAGCB7383J1Z5",
          "--supplier-state",
          "29",
        ],
        /^error: --gstin: The check character does not match \(expected 4, got 5\)/,
      ],
      [
        [
          "--workspace",
          "quote-in",
          "--plan",
          "growth",
          "--gstin",
          "29AAGCB7383J1Z",
          "--supplier-state",
          "29",
        ],
        /^error: --gstin: A GSTIN has 15 characters; this has 14\.$/,
      ],
      [
        ["--workspace", "quote-in", "--plan", "growth", "--state", "42", "--supplier-state", "29"],
        /^error: --state: 42 is not a GST state code/,
      ],
      [
        [
          "--workspace",
          "quote-in",
          "--plan",
          "growth",
          "--gstin",
          MAHARASHTRA,
          "--state",
          "29",
          "--supplier-state",
          "29",
        ],
        /^error: --state: The GSTIN is registered in Maharashtra \(27\), not Karnataka \(29\)\.$/,
      ],
      [
        ["--workspace", "quote-in", "--plan", "growth", "--supplier-state", "77"],
        /^error: --supplier-state: 77 is not a GST state code\.$/,
      ],
      [["--workspace", "quote-in", "--plan", "growth"], /^error: --supplier-state is required/],
      [
        ["--workspace", "nowhere", "--plan", "growth"],
        /^error: --workspace: no workspace has the address "nowhere"$/,
      ],
      [
        ["--workspace", "quote-us", "--plan", "growth", "--gstin", KARNATAKA],
        /^error: --gstin: A GSTIN belongs to a customer in India\.$/,
      ],
      [["--plan", "growth"], /^error: --workspace is required$/],
    ];
    for (const [args, message] of cases) {
      const result = await quote(...args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stdout, args.join(" ")).toBe("");
      expect(result.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(result.stderr.trim(), args.join(" ")).toMatch(message);
    }
    const rows = getControlDb().$client.prepare("SELECT count(*) AS n FROM billing_ledger").get();
    expect(rows).toEqual({ n: 0 });
  });
});
