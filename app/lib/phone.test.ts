import { describe, expect, it } from "vitest";
import { indianMobileE164, normalisePhone, normalisePhoneWithLibrary } from "./phone";

describe("normalisePhone", () => {
  it.each([
    ["98765 43210", "IN", "+919876543210", "IN"],
    ["0091-98765-43210", "IN", "+919876543210", "IN"],
    ["+91 (987) 654-3210", "IN", "+919876543210", "IN"],
    ["09876543210", "IN", "+919876543210", "IN"],
    ["+1 415 555 2671", "IN", "+14155552671", "US"],
    ["(415) 555-2671", "US", "+14155552671", "US"],
    ["+44 20 7946 0958", "IN", "+442079460958", "GB"],
  ])("%s with %s is %s", (input, country, e164, detected) => {
    expect(normalisePhone(input, country)).toEqual({ ok: true, e164, country: detected });
  });

  it.each(["", "   ", "12345", "hello", "+91 12", "98765 43210 98765 43210 98765 43210 98765"])(
    "refuses %j with a reason",
    (input) => {
      const result = normalisePhone(input, "IN");
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason.length).toBeGreaterThan(5);
    },
  );
});

describe("the Indian mobile shortcut", () => {
  // Deterministic, so a failure names an input that fails again.
  let state = 91;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const digits = (n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += Math.floor(random() * 10);
    return s;
  };
  const FORMS = [
    (n: string) => n,
    (n: string) => `0${n}`,
    (n: string) => `91${n}`,
    (n: string) => `0091${n}`,
    (n: string) => `+91${n}`,
  ];

  /**
   * Inputs where the shortcut answers and libphonenumber says otherwise. Where the shortcut
   * returns null, normalisePhone is libphonenumber itself, so only its answers need checking
   * (the near-miss test below checks whole results too).
   */
  function disagreements(inputs: Iterable<string>, country: string): string[] {
    const bad: string[] = [];
    for (const input of inputs) {
      const fast = indianMobileE164(input, country);
      if (fast === null) continue;
      const slow = normalisePhoneWithLibrary(input, country);
      if (!slow.ok || slow.e164 !== fast || slow.country !== "IN") bad.push(input);
    }
    return bad;
  }

  it("answers exactly as libphonenumber for every five-digit prefix, in every form", () => {
    // IN's metadata decides these numbers by their first digits and their length only, so
    // every five-digit prefix with a random rest (and the rests 00000 and 99999) covers them.
    const inputs: string[] = [];
    for (let prefix = 0; prefix < 100_000; prefix++) {
      const head = String(prefix).padStart(5, "0");
      for (const rest of [digits(5), prefix % 2 ? "00000" : "99999"]) {
        for (const form of FORMS) inputs.push(form(head + rest));
      }
    }
    expect(disagreements(inputs, "IN")).toEqual([]);
    // It did take every form of the numbers starting with 6-9, and nothing else.
    const taken = inputs.filter((i) => indianMobileE164(i, "IN") !== null);
    expect(taken.length).toBe(40_000 * 2 * FORMS.length);
    expect(taken.every((i) => /[6-9]\d{9}$/.test(i))).toBe(true);
  }, 30_000);

  it("agrees for other default countries, where only +91 numbers take it", () => {
    for (const country of ["US", "GB", "AE", "SG", "DE", "NP", "BD"]) {
      const inputs: string[] = [];
      for (let prefix = 0; prefix < 10_000; prefix++) {
        const n = String(prefix).padStart(4, "0") + digits(6);
        for (const form of FORMS) inputs.push(form(n));
      }
      expect(disagreements(inputs, country)).toEqual([]);
      expect(indianMobileE164("9876543210", country)).toBeNull();
      expect(indianMobileE164("09876543210", country)).toBeNull();
      expect(indianMobileE164("919876543210", country)).toBeNull();
      expect(indianMobileE164("00919876543210", country)).toBeNull();
      expect(indianMobileE164("+919876543210", country)).toBe("+919876543210");
    }
  }, 30_000);

  it("gives whole results equal to libphonenumber's on near misses", () => {
    const near = [
      "987654321",
      "98765432101",
      "919876543",
      "9198765432",
      "+9198765432",
      "+91987654321",
      "+9109876543210",
      "009109876543210",
      "0919876543210",
      "+0919876543210",
      "5876543210",
      "0587654321",
      "++919876543210",
      "+91 9876543210",
      " 9876543210 ",
      "9876543210x",
      "٩٨٧٦٥٤٣٢١٠",
      "９８７６５４３２１０",
    ];
    for (let i = 0; i < 5_000; i++) {
      const length = 8 + Math.floor(random() * 8);
      near.push(digits(length), `+${digits(length)}`, `00${digits(length)}`);
    }
    for (const input of near) {
      expect(normalisePhone(input, "IN"), input).toEqual(normalisePhoneWithLibrary(input, "IN"));
    }
  });
});
