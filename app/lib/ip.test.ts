import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors";
import { ipAllowed, ipInCidr, normaliseIp, parseCidr } from "./ip";

/** Runs fn, asserts it threw a ValidationError, and returns it for message checks. */
function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error("expected a ValidationError, nothing was thrown");
}

describe("parseCidr: IPv4", () => {
  it.each([
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["192.168.1.0/24", "192.168.1.0/24"],
    ["203.0.113.7/32", "203.0.113.7/32"],
    ["  198.51.100.0/24  ", "198.51.100.0/24"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["255.255.255.255/32", "255.255.255.255/32"],
    ["10.0.0.0/08", "10.0.0.0/8"],
  ])("%j -> %s", (input, cidr) => {
    expect(parseCidr(input)).toEqual({ cidr, version: 4 });
  });

  it("turns a bare address into a /32", () => {
    expect(parseCidr("203.0.113.7")).toEqual({ cidr: "203.0.113.7/32", version: 4 });
    expect(parseCidr("0.0.0.0")).toEqual({ cidr: "0.0.0.0/32", version: 4 });
  });

  it("refuses host bits beyond the prefix and names both fixes", () => {
    const error = validationError(() => parseCidr("10.0.0.5/24"));
    expect(error.message).toBe(
      '"10.0.0.5/24" has bits set after the /24 prefix. Use 10.0.0.5 for the single address, ' +
        "or 10.0.0.0/24 for the whole range.",
    );
    expect(error.fieldErrors).toEqual({ cidr: [error.message] });
    expect(validationError(() => parseCidr("1.2.3.4/0")).message).toContain("0.0.0.0/0");
    expect(validationError(() => parseCidr("10.0.0.1/31")).message).toContain("10.0.0.0/31");
  });

  it("refuses prefixes outside 0..32", () => {
    for (const input of [
      "10.0.0.0/33",
      "10.0.0.0/-1",
      "10.0.0.0/",
      "10.0.0.0/8.0",
      "10.0.0.0/x",
      "10.0.0.0/8/8",
      "10.0.0.0/ 8",
    ]) {
      expect(validationError(() => parseCidr(input)).message).toContain(
        "invalid prefix length: use a whole number from 0 to 32",
      );
    }
  });

  it("refuses the legacy shorthand forms that ipaddr.js would otherwise accept", () => {
    // "010.0.0.1" would be read as octal (8.0.0.1); "10.1" as 10.0.0.1; "1" as 0.0.0.1.
    for (const input of ["010.0.0.1", "10.1", "1", "0x0a.0.0.1", "2130706433", "10.0.0.01/32"]) {
      expect(validationError(() => parseCidr(input)).message).toContain(
        "is not a valid IP address or CIDR range",
      );
    }
  });
});

describe("parseCidr: IPv6", () => {
  it.each([
    ["2001:db8::/32", "2001:db8::/32"],
    ["2001:DB8::/32", "2001:db8::/32"],
    ["2001:0db8:0000:0000:0000:0000:0000:0000/48", "2001:db8::/48"],
    ["::/0", "::/0"],
    ["::1/128", "::1/128"],
    ["fe80::/10", "fe80::/10"],
    ["2001:db8:0:0:1:0:0:1/128", "2001:db8::1:0:0:1/128"],
  ])("%j -> %s", (input, cidr) => {
    expect(parseCidr(input)).toEqual({ cidr, version: 6 });
  });

  it("turns a bare address into a /128", () => {
    expect(parseCidr("2001:db8::1")).toEqual({ cidr: "2001:db8::1/128", version: 6 });
    expect(parseCidr("::")).toEqual({ cidr: "::/128", version: 6 });
  });

  it("refuses host bits beyond the prefix", () => {
    const error = validationError(() => parseCidr("2001:db8::1/64"));
    expect(error.message).toContain("has bits set after the /64 prefix");
    expect(error.message).toContain("Use 2001:db8::1 for the single address, or 2001:db8::/64");
    expect(validationError(() => parseCidr("::1/0")).message).toContain("::/0");
  });

  it("refuses prefixes outside 0..128", () => {
    expect(validationError(() => parseCidr("2001:db8::/129")).message).toContain(
      "use a whole number from 0 to 128",
    );
  });

  it("refuses zone ids in a range", () => {
    expect(validationError(() => parseCidr("fe80::1%eth0")).message).toContain("zone id");
    expect(validationError(() => parseCidr("fe80::%eth0/64")).message).toContain("zone id");
  });
});

describe("parseCidr: IPv4-mapped IPv6", () => {
  it("treats a mapped address as the IPv4 host", () => {
    expect(parseCidr("::ffff:1.2.3.4")).toEqual({ cidr: "1.2.3.4/32", version: 4 });
    expect(parseCidr("::FFFF:1.2.3.4/128")).toEqual({ cidr: "1.2.3.4/32", version: 4 });
    expect(parseCidr("::ffff:102:304")).toEqual({ cidr: "1.2.3.4/32", version: 4 });
  });

  it("converts a mapped range to the IPv4 range (prefix - 96)", () => {
    expect(parseCidr("::ffff:10.0.0.0/104")).toEqual({ cidr: "10.0.0.0/8", version: 4 });
    expect(parseCidr("::ffff:192.168.1.0/120")).toEqual({ cidr: "192.168.1.0/24", version: 4 });
    expect(parseCidr("::ffff:0.0.0.0/96")).toEqual({ cidr: "0.0.0.0/0", version: 4 });
  });

  it("refuses a mapped range whose prefix cuts into ::ffff, suggesting the IPv6 network", () => {
    const error = validationError(() => parseCidr("::ffff:1.2.3.0/64"));
    expect(error.message).toContain("has bits set after the /64 prefix");
    expect(error.message).toContain("::/64");
  });

  it("suggests the IPv4 form when a mapped range has host bits", () => {
    const error = validationError(() => parseCidr("::ffff:1.2.3.4/120"));
    expect(error.message).toContain("Use 1.2.3.4 for the single address, or 1.2.3.0/24");
  });

  it("refuses a non-decimal embedded IPv4 tail", () => {
    expect(validationError(() => parseCidr("::ffff:010.0.0.1")).message).toContain(
      "is not a valid IP address or CIDR range",
    );
  });
});

describe("parseCidr: junk", () => {
  it("asks for a value when given nothing", () => {
    for (const input of ["", "   "]) {
      expect(validationError(() => parseCidr(input)).message).toBe(
        "Enter an IP address or CIDR range (for example 203.0.113.7, 203.0.113.0/24 or " +
          "2001:db8::/32).",
      );
    }
  });

  it.each([
    "localhost",
    "example.com",
    "1.2.3.256",
    "1.2.3.4.5",
    "1.2.3",
    "::1::",
    "1:2:3:4:5:6:7:8:9",
    "[::1]",
    "[::1]/128",
    "/24",
    "10.0.0.0 /8",
    "1.2.3.4%eth0",
    "<script>",
    "10.0.0.0\n/8",
  ])("%j is refused with a clear message", (input) => {
    expect(validationError(() => parseCidr(input)).message).toBe(
      `${JSON.stringify(input)} is not a valid IP address or CIDR range (for example ` +
        "203.0.113.7, 203.0.113.0/24 or 2001:db8::/32).",
    );
  });

  it("does not echo very long input back in full", () => {
    const error = validationError(() => parseCidr("1".repeat(5000)));
    expect(error.message.length).toBeLessThan(200);
    expect(error.message).toContain("…");
  });
});

describe("normaliseIp", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    [" 203.0.113.7 ", "203.0.113.7"],
    ["::ffff:203.0.113.7", "203.0.113.7"],
    ["::ffff:cb00:7107", "203.0.113.7"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["fe80::1%eth0", "fe80::1"],
    ["fe80::1%25", "fe80::1"],
    ["::1", "::1"],
    ["::", "::"],
  ])("%j -> %s", (input, expected) => {
    expect(normaliseIp(input)).toBe(expected);
  });

  it.each(["", "nope", "10.1", "010.0.0.1", "1.2.3.4/32", "1.2.3.4%eth0", "[::1]"])(
    "%j is not an IP address",
    (input) => {
      const error = validationError(() => normaliseIp(input));
      expect(error.message).toBe(`${JSON.stringify(input)} is not a valid IP address.`);
    },
  );
});

describe("ipInCidr", () => {
  it("matches IPv4 inside and at the edges of a range", () => {
    expect(ipInCidr("10.1.2.3", "10.0.0.0/8")).toBe(true);
    expect(ipInCidr("10.0.0.0", "10.0.0.0/8")).toBe(true);
    expect(ipInCidr("10.255.255.255", "10.0.0.0/8")).toBe(true);
    expect(ipInCidr("11.0.0.0", "10.0.0.0/8")).toBe(false);
    expect(ipInCidr("9.255.255.255", "10.0.0.0/8")).toBe(false);
  });

  it("treats /32 and a bare address as exactly one host", () => {
    expect(ipInCidr("203.0.113.7", "203.0.113.7/32")).toBe(true);
    expect(ipInCidr("203.0.113.7", "203.0.113.7")).toBe(true);
    expect(ipInCidr("203.0.113.8", "203.0.113.7/32")).toBe(false);
    expect(ipInCidr("203.0.113.6", "203.0.113.7")).toBe(false);
  });

  it("treats 0.0.0.0/0 as every IPv4 address and no IPv6 address", () => {
    expect(ipInCidr("0.0.0.0", "0.0.0.0/0")).toBe(true);
    expect(ipInCidr("255.255.255.255", "0.0.0.0/0")).toBe(true);
    expect(ipInCidr("2001:db8::1", "0.0.0.0/0")).toBe(false);
  });

  it("matches IPv6 ranges, including /0 and /128", () => {
    expect(ipInCidr("2001:db8:1::5", "2001:db8::/32")).toBe(true);
    expect(ipInCidr("2001:db9::1", "2001:db8::/32")).toBe(false);
    expect(ipInCidr("2001:db8::1", "2001:db8::1/128")).toBe(true);
    expect(ipInCidr("2001:db8::2", "2001:db8::1/128")).toBe(false);
    expect(ipInCidr("::1", "::/0")).toBe(true);
    expect(ipInCidr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0")).toBe(true);
    expect(ipInCidr("10.0.0.1", "::/0")).toBe(false);
  });

  it("matches IPv4-mapped clients against IPv4 ranges and mapped ranges", () => {
    expect(ipInCidr("::ffff:10.1.2.3", "10.0.0.0/8")).toBe(true);
    expect(ipInCidr("::ffff:11.1.2.3", "10.0.0.0/8")).toBe(false);
    expect(ipInCidr("10.1.2.3", "::ffff:10.0.0.0/104")).toBe(true);
    expect(ipInCidr("::ffff:10.1.2.3", "::ffff:10.0.0.0/104")).toBe(true);
  });

  it("ignores the client's zone id", () => {
    expect(ipInCidr("fe80::1%eth0", "fe80::/10")).toBe(true);
  });

  it("puts a junk client address inside nothing", () => {
    expect(ipInCidr("not-an-ip", "0.0.0.0/0")).toBe(false);
    expect(ipInCidr("", "::/0")).toBe(false);
    expect(ipInCidr("10.1", "10.0.0.0/8")).toBe(false);
  });

  it("throws ValidationError for an invalid range", () => {
    validationError(() => ipInCidr("10.0.0.1", "10.0.0.0/33"));
    validationError(() => ipInCidr("10.0.0.1", "junk"));
  });
});

describe("ipAllowed", () => {
  const list = ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"];

  it("allows everyone when the list is empty", () => {
    expect(ipAllowed("203.0.113.7", [])).toBe(true);
    expect(ipAllowed("2001:db8::1", [])).toBe(true);
    expect(ipAllowed("garbage", [])).toBe(true);
  });

  it("allows a client inside any entry and refuses the rest", () => {
    expect(ipAllowed("203.0.113.200", list)).toBe(true);
    expect(ipAllowed("198.51.100.7", list)).toBe(true);
    expect(ipAllowed("::ffff:198.51.100.7", list)).toBe(true);
    expect(ipAllowed("2001:db8:abcd::1", list)).toBe(true);
    expect(ipAllowed("198.51.100.8", list)).toBe(false);
    expect(ipAllowed("192.0.2.1", list)).toBe(false);
    expect(ipAllowed("2001:db9::1", list)).toBe(false);
    expect(ipAllowed("::1", list)).toBe(false);
  });

  it("refuses a junk client address when there is a list", () => {
    expect(ipAllowed("", list)).toBe(false);
    expect(ipAllowed("203.0.113", list)).toBe(false);
  });

  it("lets a bad stored entry match nobody, without throwing or opening the list", () => {
    expect(ipAllowed("10.0.0.1", ["junk", "10.0.0.0/33"])).toBe(false);
    expect(ipAllowed("10.0.0.1", ["junk", "10.0.0.0/8"])).toBe(true);
  });
});
