import { describe, expect, it } from "vitest";
import {
  contactValues,
  formatTemplateError,
  knownVariables,
  parseTemplate,
  renderTemplate,
  renderText,
  validateVariables,
  type ParsedTemplate,
} from "./personalise";

function parsed(text: string): ParsedTemplate {
  const result = parseTemplate(text);
  if (!result.ok) throw new Error(result.errors.map(formatTemplateError).join("; "));
  return result;
}

function errorsOf(text: string) {
  const result = parseTemplate(text);
  if (result.ok) throw new Error(`expected errors for ${text}`);
  return result.errors;
}

describe("parseTemplate", () => {
  it("splits text and variables, with filters and their arguments", () => {
    const text = 'Hi {{ first_name | default: "there" | capitalize }}, {{email}}!';
    const result = parsed(text);
    expect(result.variables).toEqual(["first_name", "email"]);
    expect(result.parts).toEqual([
      { type: "text", value: "Hi " },
      {
        type: "variable",
        name: "first_name",
        filters: [{ name: "default", value: "there" }, { name: "capitalize" }],
        start: 3,
        end: text.indexOf(","),
      },
      { type: "text", value: ", " },
      { type: "variable", name: "email", filters: [], start: 53, end: text.length - 1 },
      { type: "text", value: "!" },
    ]);
  });

  it("lists each variable once, attributes.<key> as written", () => {
    const result = parsed("{{ city }} {{ attributes.city | upcase }} {{ city | truncate: 3 }}");
    expect(result.variables).toEqual(["city", "attributes.city"]);
  });

  it("takes defaults in either quote, with escaped quotes and }} inside", () => {
    expect(renderText(`{{ name | default: "say \\"hi\\" }}" }}`, {})).toBe('say "hi" }}');
    expect(renderText(`{{ name | default: 'it\\'s you' }}`, {})).toBe("it's you");
    expect(renderText(`{{ name | default: "it's" }}`, {})).toBe("it's");
    expect(renderText(`{{ name | default: 42 }}`, {})).toBe("42");
  });

  it("writes a literal {{ after a backslash; stray braces are text", () => {
    const result = parsed("Use \\{{ first_name }} to greet {name} }} {{ name }}");
    expect(result.variables).toEqual(["name"]);
    expect(renderTemplate(result, { name: "Asha" })).toBe(
      "Use {{ first_name }} to greet {name} }} Asha",
    );
  });

  it("reports an unclosed tag at its {{", () => {
    const [error] = errorsOf("Hello\n  {{ first_name, welcome");
    expect(error).toMatchObject({ position: 8, line: 2, column: 3 });
    expect(error!.message).toMatch(/not closed/);
    expect(formatTemplateError(error!)).toMatch(/^Line 2, column 3: /);
  });

  it("reports nested braces", () => {
    const errors = errorsOf("{{ first_name {{ last_name }} }}");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ position: 14 });
    expect(errors[0]!.message).toMatch(/cannot contain \{\{/);
    expect(errorsOf("{{{ name }}}")[0]!.message).toMatch(/Unexpected “\{”/);
  });

  it("reports an unknown filter by name, at the filter", () => {
    const [error] = errorsOf("Hi {{ first_name | upper }}");
    expect(error).toMatchObject({ position: 19, column: 20 });
    expect(error!.message).toBe(
      "Unknown filter “upper”. Use default, upcase, downcase, capitalize, truncate or url_encode.",
    );
  });

  it("reports bad quoting", () => {
    expect(errorsOf('{{ name | default: "there }}')[0]).toMatchObject({
      position: 19,
      message: 'The quoted text starting here has no closing ".',
    });
    expect(errorsOf("{{ name | default: there }}")[0]!.message).toBe(
      'Put the default value in quotes: default: "there".',
    );
    expect(errorsOf("{{ name | default: “there” }}")[0]!.message).toMatch(/straight quotes/);
  });

  it("reports other malformed tags, each with its position", () => {
    const text = "{{ }} {{ name | default }} {{ name | upcase: 2 }} {{ a b }} {{ x | truncate }}";
    const errors = errorsOf(text);
    expect(errors.map((e) => e.message)).toEqual([
      "This tag is empty: put a variable between {{ and }}, e.g. {{ first_name }}.",
      'default needs a value in quotes, e.g. default: "there".',
      "upcase takes no value.",
      "Unexpected “b”: separate filters with |.",
      "truncate needs a number of characters, e.g. truncate: 20.",
    ]);
    expect(errors.map((e) => e.position)).toEqual([
      0,
      text.indexOf("default"),
      text.indexOf("2 }}"),
      text.indexOf("b }}"),
      text.indexOf("truncate"),
    ]);
  });
});

describe("variables", () => {
  const known = knownVariables(["city", "plan"]);

  it("knows built-ins and custom attribute keys, plain and as attributes.<key>", () => {
    expect(
      validateVariables(
        [
          "first_name",
          "last_name",
          "name",
          "email",
          "phone",
          "country",
          "city",
          "attributes.city",
          "attributes.plan",
        ],
        known,
      ),
    ).toEqual([]);
  });

  it("returns the unknown ones", () => {
    expect(
      validateVariables(
        ["favourite_colour", "city", "attributes.email", "favourite_colour"],
        known,
      ),
    ).toEqual(["favourite_colour", "attributes.email"]);
  });

  it("maps a contact: first word is first_name, the rest last_name", () => {
    const values = contactValues({
      name: "  Asha  Rani Verma ",
      email: "asha@example.com",
      phone: "+919876500001",
      country: "IN",
      attributes: { city: "Pune", vip: true, orders: 3, first_name: "Attr" },
    });
    expect(values).toMatchObject({
      first_name: "Asha",
      last_name: "Rani Verma",
      name: "Asha  Rani Verma",
      email: "asha@example.com",
      phone: "+919876500001",
      country: "IN",
      city: "Pune",
      "attributes.city": "Pune",
      "attributes.first_name": "Attr",
      orders: 3,
    });
    expect(
      contactValues({ name: "", email: null, phone: null, country: null, attributes: {} }),
    ).toMatchObject({ first_name: "", last_name: "", email: null });
  });
});

describe("renderTemplate", () => {
  it("uses defaults for missing and blank values only", () => {
    const t = parsed('Hi {{ first_name | default: "there" }}{{ last_name }}!');
    expect(renderTemplate(t, {})).toBe("Hi there!");
    expect(renderTemplate(t, { first_name: "  " })).toBe("Hi there!");
    expect(renderTemplate(t, { first_name: null })).toBe("Hi there!");
    expect(renderTemplate(t, { first_name: "Asha" })).toBe("Hi Asha!");
    expect(
      renderTemplate(parsed("{{ orders }} {{ vip }} {{ off }}"), {
        orders: 0,
        vip: true,
        off: false,
      }),
    ).toBe("0 yes no");
  });

  it("applies filters in order", () => {
    const values = { name: "asha rani", city: "pune", long: "abcdefghij" };
    expect(renderText("{{ name | capitalize }}", values)).toBe("Asha rani");
    expect(renderText("{{ name | upcase }} {{ city | upcase | downcase }}", values)).toBe(
      "ASHA RANI pune",
    );
    expect(renderText("{{ long | truncate: 5 }} {{ city | truncate: 10 }}", values)).toBe(
      "abcd… pune",
    );
    expect(renderText("{{ missing | default: 'x y' | upcase }}", values)).toBe("X Y");
    expect(renderText("?q={{ name | url_encode }}", values)).toBe("?q=asha%20rani");
    expect(renderText("{{ name | capitalize }}", { name: "mcDonald" })).toBe("McDonald");
  });

  it("escapes values (not literal text) for HTML when asked", () => {
    const t = parsed('<p>Hi {{ first_name | default: "<friend>" }} & {{ last_name }}</p>');
    const values = { first_name: "<script>alert(1)</script>", last_name: `"O'Neil" & co` };
    expect(renderTemplate(t, values, { escapeHtml: true })).toBe(
      "<p>Hi &lt;script&gt;alert(1)&lt;/script&gt; & &quot;O&#39;Neil&quot; &amp; co</p>",
    );
    expect(renderTemplate(t, values)).toBe(`<p>Hi <script>alert(1)</script> & "O'Neil" & co</p>`);
    expect(renderTemplate(t, {}, { escapeHtml: true })).toBe("<p>Hi &lt;friend&gt; & </p>");
  });

  it("does not read inherited properties as values", () => {
    expect(renderText("{{ constructor }}{{ toString }}", {})).toBe("");
  });
});
