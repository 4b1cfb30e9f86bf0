import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

/**
 * Import boundaries from DESIGN §3, enforced so the architecture holds without anyone
 * remembering it: routes -> auth, domain -> db, channels, payments, emails -> lib.
 */
const serverOnly = { group: ["*.server", "*.server.*", "~/db/*", "~/domain/*", "~/jobs/*"] };
const noRoutes = { group: ["~/routes/*", "**/routes/*"], message: "Nothing imports a route." };
const noTests = { group: ["**/tests/*", "../tests/*"], message: "app/ never imports tests/." };
const noDbOutsideDomain = {
  group: ["~/db/*", "**/db/*.server", "better-sqlite3", "drizzle-orm/better-sqlite3"],
  message: "Only app/domain and app/db touch databases; call a domain function.",
};
const restrict = (...patterns) => ["error", { patterns }];

/**
 * One of each helper, kept single by a rule of its own (a local plugin, so it adds to whatever
 * no-restricted-syntax other blocks set instead of replacing it). Each entry: an AST selector
 * and what to do instead.
 */
const ONE_OF_EACH = [
  [
    "Literal[raw=/^[\"'](&amp;|&lt;|&gt;|&quot;|&#39;)[\"']$/]",
    "HTML is escaped by escapeHtml in app/lib/html.ts; do not build another escape table.",
  ],
  [
    ":matches(FunctionDeclaration, VariableDeclarator)[id.name=/^escape\\w*(Html|Telegram|Xml)$/i]",
    "HTML is escaped by escapeHtml in app/lib/html.ts; import it.",
  ],
  [
    ":matches(FunctionDeclaration, VariableDeclarator)[id.name=/^parse\\w*Id$/]",
    "Ids from URLs and forms are read by parseId(value, what) in app/lib/ids.ts.",
  ],
  [
    "Literal[regex.pattern=/(email|whatsapp|sms|telegram)\\|(email|whatsapp|sms|telegram)/]",
    "Build channel checks from CHANNELS / isChannel in app/lib/channels.ts.",
  ],
  [
    "MemberExpression[property.name='includes'] > ArrayExpression.object:has(Literal[value='telegram'])",
    "Check a channel name with isChannel from app/lib/channels.ts.",
  ],
  [
    "VariableDeclarator[id.name='ATTRIBUTE_TYPES']",
    "The attribute types are ATTRIBUTE_TYPES in app/lib/attribute-types.ts; import it.",
  ],
  [
    "Program > FunctionDeclaration[id.name=/^(Pager|\\w*StatusBadge)$/]",
    "A local Pager or status badge: use Pager from app/components/ui/pager.tsx and the badges in app/components.",
  ],
  [
    "ObjectExpression > SpreadElement ~ Property[key.name='timeZone']",
    "The workspace's time zone is ctx.workspace.timeZone; do not patch it onto a context.",
  ],
];
const oneOfEach = {
  rules: {
    "one-of-each": {
      meta: { type: "problem", schema: [] },
      create(context) {
        return Object.fromEntries(
          ONE_OF_EACH.map(([selector, message]) => [
            selector,
            (node) => context.report({ node, message }),
          ]),
        );
      },
    },
  },
};

export default tseslint.config(
  {
    ignores: [
      "build/**",
      "node_modules/**",
      "data/**",
      "test-results/**",
      "playwright-report/**",
      "drizzle/control/**",
      "drizzle/tenant/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-console": ["error", { allow: ["error", "warn"] }],
    },
  },
  {
    files: ["app/**"],
    rules: { "no-restricted-imports": restrict(noRoutes, noTests) },
  },
  {
    files: ["app/components/**"],
    rules: {
      "no-restricted-imports": restrict(
        { ...serverOnly, message: "Components never import server code." },
        noRoutes,
        noTests,
      ),
    },
  },
  {
    files: ["app/routes/**", "app/root.tsx", "app/auth/**", "app/jobs/**"],
    rules: { "no-restricted-imports": restrict(noDbOutsideDomain, noRoutes, noTests) },
  },
  {
    files: ["app/lib/**"],
    rules: {
      "no-restricted-imports": restrict({
        group: ["~/*", "!~/lib", "!~/lib/*"],
        message: "app/lib imports nothing else from app/.",
      }),
    },
  },
  {
    files: ["app/channels/**", "app/payments/**", "app/emails/**"],
    rules: {
      "no-restricted-imports": restrict(
        {
          group: ["~/domain/*", "~/db/*", "~/routes/*", "~/auth/*", "~/jobs/*"],
          message: "Providers and emails sit below domain: SDK + lib only.",
        },
        noTests,
      ),
    },
  },
  {
    files: ["app/db/**"],
    rules: {
      "no-restricted-imports": restrict(
        {
          group: ["~/domain/*", "~/routes/*", "~/auth/*", "~/jobs/*", "~/channels/*"],
          message: "app/db sits below domain.",
        },
        noTests,
      ),
    },
  },
  {
    files: ["app/domain/**"],
    rules: {
      "no-restricted-imports": restrict(
        {
          group: ["~/routes/*", "~/auth/*", "~/jobs/*", "~/components/*"],
          message: "Domain code knows nothing of routes, auth, jobs or UI.",
        },
        noTests,
      ),
    },
  },
  {
    // Tests beside a module may use the provider fakes and factories in tests/.
    files: ["app/**/*.test.ts", "app/**/*.test.tsx"],
    rules: { "no-restricted-imports": restrict(noRoutes) },
  },
  {
    files: ["scripts/**", "tests/**", "server.ts", "*.config.ts"],
    rules: { "no-console": "off" },
  },
  {
    files: ["app/**/*.ts", "app/**/*.tsx", "tests/fakes/**", "tests/support/**", "scripts/**"],
    ignores: [
      "app/lib/html.ts",
      "app/lib/ids.ts",
      "app/lib/attribute-types.ts",
      "app/lib/channels.ts",
      "**/*.test.ts",
      // Its own escape table goes when the page is split into a folder route.
      "app/routes/w.$slug.contacts.$contactId.tsx",
    ],
    plugins: { engage: oneOfEach },
    rules: { "engage/one-of-each": "error" },
  },
);
