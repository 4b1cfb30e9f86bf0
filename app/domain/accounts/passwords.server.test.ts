import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { APP_ROOT } from "~/lib/app-root.server";
import {
  BCRYPT_COST,
  bcryptCostOf,
  hashPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  passwordProblem,
  verifyAgainstNothing,
  verifyPassword,
} from "./passwords.server";

const GOOD = "plum orbit café saddle 42";

function commonList(): string[] {
  return readFileSync(join(APP_ROOT, "content", "common-passwords.txt"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

describe("hashPassword / verifyPassword", () => {
  it("hashes with salted bcrypt at cost 12 or more and verifies only the right password", async () => {
    const [hash, again] = await Promise.all([hashPassword(GOOD), hashPassword(GOOD)]);
    expect(BCRYPT_COST).toBeGreaterThanOrEqual(12);
    expect(hash).toMatch(/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/);
    expect(bcryptCostOf(hash)).toBeGreaterThanOrEqual(12);
    expect(bcryptCostOf(hash)).toBe(BCRYPT_COST);
    expect(hash).not.toContain(GOOD);
    // A fresh salt each time: two hashes of one password differ.
    expect(again).not.toBe(hash);

    const [right, otherSalt, wrong, decomposed] = await Promise.all([
      verifyPassword(GOOD, hash),
      verifyPassword(GOOD, again),
      verifyPassword("plum orbit café saddle 43", hash),
      // Canonically equal Unicode spellings are one password (NFKC before hashing).
      verifyPassword(GOOD.normalize("NFD"), hash),
    ]);
    expect(GOOD.normalize("NFD")).not.toBe(GOOD);
    expect(right).toBe(true);
    expect(otherSalt).toBe(true);
    expect(wrong).toBe(false);
    expect(decomposed).toBe(true);
  });

  it("counts every character of a long passphrase (no 72-byte bcrypt truncation)", async () => {
    const stem = "a long passphrase about monsoon tea, paper boats and slow trains to ooty".padEnd(
      99,
      ".",
    );
    const one = `${stem}1`;
    const two = `${stem}2`;
    expect(one).toHaveLength(100);
    expect(Buffer.byteLength(stem)).toBeGreaterThan(72);
    const hash = await hashPassword(one);
    const [same, lastCharDiffers] = await Promise.all([
      verifyPassword(one, hash),
      verifyPassword(two, hash),
    ]);
    expect(same).toBe(true);
    expect(lastCharDiffers).toBe(false);
  });

  it("verifyAgainstNothing never succeeds, not even with the text of its own dummy hash", async () => {
    expect(await verifyAgainstNothing("not a real password, only for timing")).toBe(false);
  });

  it("bcryptCostOf reads the cost field of a bcrypt hash", () => {
    expect(bcryptCostOf("$2b$12$abcdefghijklmnopqrstuu0123456789012345678901234567890")).toBe(12);
    expect(bcryptCostOf("$2b$10$abcdefghijklmnopqrstuu0123456789012345678901234567890")).toBe(10);
  });
});

describe("passwordProblem", () => {
  it("refuses fewer than 12 characters and accepts 12", () => {
    expect(PASSWORD_MIN_LENGTH).toBe(12);
    expect(passwordProblem("kite river7")).toMatch(/at least 12 characters/);
    expect(passwordProblem("")).toMatch(/at least 12 characters/);
    expect(passwordProblem("kite river77")).toBeNull();
  });

  it("refuses more than the maximum length", () => {
    const words = "monsoon tea paper boat ";
    const long = words.repeat(Math.ceil((PASSWORD_MAX_LENGTH + 1) / words.length));
    expect(passwordProblem(long.slice(0, PASSWORD_MAX_LENGTH))).toBeNull();
    expect(passwordProblem(long.slice(0, PASSWORD_MAX_LENGTH + 1))).toMatch(/at most/);
  });

  it("refuses entries of the common list, whatever their case", () => {
    const list = commonList();
    expect(list).toEqual(
      expect.arrayContaining(["password1234", "password@123", "correct horse battery staple"]),
    );
    for (const common of [
      "password1234",
      "Password@123",
      "PASSWORD1234",
      "Correct Horse Battery Staple",
    ]) {
      expect(passwordProblem(common), common).toMatch(/too common/);
    }
    // Every entry is refused, whether for its length or for being on the list.
    for (const entry of list) {
      expect(passwordProblem(entry), entry).not.toBeNull();
      if (entry.length >= PASSWORD_MIN_LENGTH) expect(passwordProblem(entry)).toMatch(/too common/);
    }
  });

  it("refuses one or two characters repeated", () => {
    expect(passwordProblem("z".repeat(16))).toMatch(/too common/);
    expect(passwordProblem("xyxyxyxyxyxyxy")).toMatch(/too common/);
    expect(passwordProblem("XyXyXyxyxyxyxy")).toMatch(/too common/);
    expect(passwordProblem("xyzxyzxyzxyzxyz")).toBeNull();
  });

  it("refuses a password containing the email's local part or equal to the email", () => {
    const email = "asha.verma@example.com";
    expect(passwordProblem("my asha.verma secret", { email })).toMatch(/email address/);
    expect(passwordProblem("MY ASHA.VERMA SECRET", { email })).toMatch(/email address/);
    expect(passwordProblem("asha.verma@example.com", { email })).toMatch(/email address/);
    // A very short local part is too common a string to forbid.
    expect(passwordProblem("calm river saddle", { email: "al@example.com" })).toBeNull();
    expect(passwordProblem("my asha.verma secret")).toBeNull();
  });

  it("refuses the person's own name (spaces and case ignored)", () => {
    const name = "Priya Raman Iyer";
    expect(passwordProblem("priyaramaniyer", { name })).toMatch(/your name/);
    expect(passwordProblem("Priya Raman Iyer", { name })).toMatch(/your name/);
    expect(passwordProblem("priya raman iyer rocks", { name })).toBeNull();
  });

  it("accepts a good passphrase", () => {
    expect(
      passwordProblem(GOOD, { email: "asha.verma@example.com", name: "Asha Verma" }),
    ).toBeNull();
    expect(passwordProblem("correct horse battery stapler")).toBeNull();
  });
});
