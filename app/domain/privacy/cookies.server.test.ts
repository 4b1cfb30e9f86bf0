import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { APP_ROOT } from "~/lib/app-root.server";
import { cookiesWeSet } from "./cookies.server";

/** Every .ts/.tsx file under app/, tests excluded. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

/** remix-auth's required session storage in auth/password.server: never committed, never set. */
const NEVER_SET = new Set(["engage_unused"]);

describe("cookiesWeSet", () => {
  it("lists exactly the cookies the code creates", () => {
    const created = new Set<string>();
    for (const file of sourceFiles(join(APP_ROOT, "app"))) {
      const text = readFileSync(file, "utf8");
      if (!/createCookie(SessionStorage)?\(/.test(text)) continue;
      for (const match of text.matchAll(/["']((?:__Host-)?engage_[a-z_]+)["']/g)) {
        const name = match[1]!.replace(/^__Host-/, "");
        if (!NEVER_SET.has(name)) created.add(name);
      }
    }
    const listed = cookiesWeSet().map((c) => c.name.replace(/^__Host-/, ""));
    expect(new Set(listed)).toEqual(created);
    expect(listed).toContain("engage_session");
  });

  it("describes each with a purpose, a lifetime and its attributes", () => {
    for (const cookie of cookiesWeSet()) {
      expect(cookie.purpose.length).toBeGreaterThan(20);
      expect(cookie.lifetime).toMatch(/\d/);
      expect(cookie.attributes).toContain("HttpOnly");
      expect(cookie.attributes).toContain("SameSite=Lax");
    }
  });
});
