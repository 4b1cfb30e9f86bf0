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
 * One way to answer a form: submitForm / formFailure (app/lib/form.server.ts) reply with
 * conform's result, and multi-action pages read their intent with readIntent against a typed
 * NEEDS map. These selectors stop hand-rolled variants from coming back.
 */
const formResultRules = [
  {
    selector: "FunctionDeclaration[id.name='failure'], VariableDeclarator[id.name='failure']",
    message: "Answer a failed form with submitForm or formFailure from ~/lib/form.server.",
  },
  {
    selector: "Property[key.name='formError']",
    message: "One result shape: submitForm / formFailure (FormResult), read with useFormResult.",
  },
  {
    selector:
      "CallExpression[callee.object.type='Identifier'][callee.property.name='get'][arguments.0.value='intent']",
    message:
      "Read the intent with requireWorkspaceIntent(args, formData, NEEDS) (or readIntent outside a workspace).",
  },
];
const noMessageParsing = {
  selector:
    "CallExpression[callee.property.name=/^(exec|match)$/][arguments.0.property.name='message'], CallExpression[callee.property.name=/^(exec|match|matchAll)$/][callee.object.property.name='message']",
  message: "Typed errors carry their data as fields; never parse it back out of a message.",
};
/** Actions still answering in their own shape, to convert; the list only shrinks. */
const formResultBacklog = [
  "app/routes/verify-email.tsx",
  "app/routes/admin.policy.tsx",
  "app/routes/u.$token.tsx",
  "app/routes/w.$slug._index.tsx",
  "app/routes/w.$slug.campaigns.$campaignId_.review.tsx",
  "app/routes/w.$slug.campaigns.new.tsx",
  "app/routes/w.$slug.contacts.$contactId.tsx",
  "app/routes/w.$slug.contacts._index.tsx",
  "app/routes/w.$slug.contacts.export.tsx",
  "app/routes/w.$slug.segments.$segmentId.tsx",
  "app/routes/w.$slug.segments.new.tsx",
  "app/routes/w.$slug.templates._index.tsx",
];

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
    files: ["app/routes/**"],
    ignores: formResultBacklog,
    rules: { "no-restricted-syntax": ["error", ...formResultRules, noMessageParsing] },
  },
  {
    files: formResultBacklog,
    rules: { "no-restricted-syntax": ["error", noMessageParsing] },
  },
  {
    files: ["app/components/**"],
    rules: {
      "no-restricted-syntax": [
        "error",
        noMessageParsing,
        {
          selector: "CallExpression[callee.object.name='z'][callee.property.name='object']",
          message: "Form schemas live beside their route or in the domain, not in components.",
        },
      ],
    },
  },
);
