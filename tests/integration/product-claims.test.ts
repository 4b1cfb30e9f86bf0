import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROLE_DESCRIPTIONS } from "~/auth/permissions";
import { APP_ROOT } from "~/lib/app-root.server";

/**
 * What the product says about itself must be true. A feature may be described where the
 * product presents itself (the README's opening, the home page, role descriptions, workspace
 * settings, members and API-key pages) only once a route for it exists under app/routes.
 */

const ROUTES = readdirSync(join(APP_ROOT, "app", "routes"));
const read = (...path: string[]) => readFileSync(join(APP_ROOT, ...path), "utf8");

const README = read("README.md");
/** The opening paragraph, before the first section. */
const README_INTRO = README.slice(0, README.indexOf("\n## "));

const SURFACES: Record<string, string> = {
  "README intro": README_INTRO,
  "home page": read("app", "routes", "_index.tsx"),
  "role descriptions": Object.values(ROLE_DESCRIPTIONS).join("\n"),
  "workspace settings": read("app", "routes", "w.$slug.settings.tsx"),
  "new workspace": read("app", "routes", "workspaces.new.tsx"),
  "members page": read("app", "routes", "w.$slug.members.tsx"),
  "API keys page": read("app", "routes", "w.$slug.api-keys.tsx"),
};

const FEATURES: { name: string; route: RegExp; claim: RegExp }[] = [
  { name: "a shared inbox", route: /inbox|conversations/, claim: /\binbox\b/i },
  { name: "journeys", route: /journeys|automations/, claim: /\bjourneys?\b|\bautomations\b/i },
  {
    name: "billing",
    route: /billing|invoices|plans/,
    claim: /\bbill(ing|ed)\b|\binvoices?\b|\bplans?\b|\bstripe\b|\brazorpay\b|\bsubscriptions?\b/i,
  },
];

describe("product claims", () => {
  // Only features not built yet are checked (a built one may be described).
  const unbuilt = FEATURES.filter((feature) => !ROUTES.some((file) => feature.route.test(file)));
  for (const feature of unbuilt) {
    it(`nothing claims ${feature.name} while no route serves it`, () => {
      for (const [surface, text] of Object.entries(SURFACES)) {
        expect(
          text.match(feature.claim)?.[0],
          `${surface} mentions ${feature.name}`,
        ).toBeUndefined();
      }
    });
  }

  it("the API keys page names every /api/v1 endpoint there is", () => {
    const endpoints = ROUTES.filter((file) => file.startsWith("api.v1.")).map(
      (file) =>
        `/api/v1/${file
          .replace(/^api\.v1\./, "")
          .replace(/\.tsx?$/, "")
          .replace(/\./g, "/")}`,
    );
    expect(endpoints.length).toBeGreaterThan(0);
    for (const endpoint of endpoints) expect(SURFACES["API keys page"]).toContain(endpoint);
  });
});
