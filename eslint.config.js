import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

/**
 * Import boundaries (the layers README's Architecture section draws), enforced so the
 * architecture holds without anyone remembering it: routes -> auth, domain -> db, channels,
 * payments, emails -> lib.
 */
const serverOnly = { group: ["*.server", "*.server.*", "~/db/*", "~/domain/*", "~/jobs/*"] };
const noRoutes = { group: ["~/routes/*", "**/routes/*"], message: "Nothing imports a route." };
const noTests = { group: ["**/tests/*", "../tests/*"], message: "app/ never imports tests/." };
const noDbOutsideDomain = {
  group: ["~/db/*", "**/db/*.server", "better-sqlite3", "drizzle-orm/better-sqlite3"],
  message: "Only app/domain and app/db touch databases; call a domain function.",
};
const noProviders = {
  group: ["~/channels/*", "~/payments/*"],
  message: "Providers sit behind app/domain: what is sent is composed there (e.g. delivery).",
};
const restrict = (...patterns) => ["error", { patterns }];

/**
 * Wiring is written down where things are started, never done by importing a module: an import
 * that only runs a module's side effects, or a module that calls something when it is loaded,
 * is how a dispatcher hook or a renderer ends up registered in one process and missing in a
 * test. Export the hook and hand it over where the host starts the engine.
 */
const noImportForEffect = {
  selector: "ImportDeclaration[specifiers.length=0][source.value=/^(~\\/|\\.)(?!.*\\.css$)/]",
  message: "No import for its side effects: import what you use and pass it in.",
};
const noCallAtLoad = {
  selector: "Program > ExpressionStatement > :matches(CallExpression, AwaitExpression)",
  message: "A module does nothing when it is loaded: export it and let the host wire it in.",
};

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

/**
 * One way to answer a form: submitForm / formFailure (app/lib/form.server.ts) reply with
 * conform's result, and multi-action pages read their intent with readIntent against a typed
 * NEEDS map. These selectors stop hand-rolled variants from coming back.
 */
/** Routes hand the whole context to the domain; the tenant's connection is the domain's business. */
const noTenantDbInRoutes = {
  selector: "MemberExpression[property.name='db']",
  message: "Pass the context (wctx) to a domain function; routes do not reach for ctx.db.",
};
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
    rules: {
      "no-restricted-imports": restrict(noDbOutsideDomain, noProviders, noRoutes, noTests),
    },
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
    // A file over ~500 lines is a question to ask: split it by noun. Ratchet: the files listed
    // below were larger when the rule came in; the list may only shrink.
    files: ["app/**"],
    rules: { "max-lines": ["error", { max: 500, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: [
      "app/channels/ses/adapter.server.test.ts",
      "app/channels/whatsapp-cloud/adapter.server.test.ts",
      "app/channels/whatsapp-cloud/adapter.server.ts",
      "app/components/segment-builder.tsx",
      "app/components/template-editor-whatsapp.tsx",
      "app/components/template-editor.tsx",
      "app/domain/campaigns/campaigns.server.test.ts",
      "app/domain/campaigns/campaigns.server.ts",
      "app/domain/contacts/contacts.server.test.ts",
      "app/domain/contacts/import/csv-format.server.ts",
      "app/domain/contacts/import/imports.server.test.ts",
      "app/domain/contacts/import/supervisor.server.ts",
      "app/domain/delivery/dispatcher.server.ts",
      "app/domain/delivery/email-delivery.server.test.ts",
      "app/domain/delivery/sms-telegram-delivery.server.test.ts",
      "app/domain/delivery/webhooks.server.ts",
      "app/domain/privacy/dsar-fulfil.server.ts",
      "app/domain/privacy/dsar-requests.server.test.ts",
      "app/domain/privacy/dsar-requests.server.ts",
      "app/domain/privacy/dsar-queues.server.ts",
      "app/domain/privacy/policy-versions.server.ts",
      "app/domain/templates/templates.server.ts",
      "app/domain/templates/whatsapp-sync.server.ts",
      "app/routes/w.$slug.contacts.import_.$importId.tsx",
      "app/routes/w.$slug.settings_.channels.tsx",
      "app/routes/w.$slug.settings_.sending.tsx",
    ],
    rules: { "max-lines": "off" },
  },
  {
    files: ["scripts/**", "tests/**", "server.ts", "*.config.ts"],
    rules: { "no-console": "off" },
  },
  {
    files: ["app/**", "scripts/**", "tests/**", "server.ts"],
    rules: { "no-restricted-syntax": ["error", noImportForEffect] },
  },
  {
    // Entry points (the browser's, worker threads') are the ones whose loading is the point.
    files: ["app/**/*.ts", "app/**/*.tsx"],
    ignores: ["app/entry.*.tsx", "app/workers/**", "app/**/*.test.ts", "app/**/*.test.tsx"],
    rules: { "no-restricted-syntax": ["error", noImportForEffect, noCallAtLoad] },
  },
  // Test time: operator commands print only through the `io` their run() receives, so tests
  // run the CLI in-process and capture all it says; scripts/engage.ts binds io to the process.
  {
    files: ["scripts/cli/**"],
    rules: {
      "no-restricted-properties": [
        "error",
        ...[
          { object: "console" },
          ...["stdout", "stderr", "exit"].map((property) => ({ object: "process", property })),
        ].map((rule) => ({
          ...rule,
          message: "Print through the command's io and return an exit code.",
        })),
      ],
    },
  },
  {
    // One smoke test starts the CLI as a process; the rest call it in-process (runCli).
    files: ["tests/**"],
    ignores: ["tests/integration/cli.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/support/server"],
              importNames: ["spawnCli"],
              message: "Use runCli: the CLI in-process, without a node + tsx start per command.",
            },
          ],
        },
      ],
    },
  },
  {
    // Specs get a signed-in owner from signedInOwner (tests/e2e/support.ts); only the specs
    // about the sign-up screens walk through them.
    files: ["tests/e2e/**"],
    ignores: [
      "tests/e2e/accounts.spec.ts",
      "tests/e2e/invitation.spec.ts",
      "tests/e2e/screens.spec.ts",
    ],
    rules: {
      "no-restricted-syntax": [
        "error",
        noImportForEffect,
        {
          selector: "Literal[value=/^(\\/signup|Create account)$/]",
          message: "Use signedInOwner(page, ...) instead of signing up through the screens.",
        },
      ],
    },
  },
  {
    files: ["app/routes/**"],
    rules: {
      "no-restricted-syntax": [
        "error",
        noImportForEffect,
        noCallAtLoad,
        noTenantDbInRoutes,
        ...formResultRules,
        noMessageParsing,
      ],
    },
  },
  {
    files: ["app/components/**"],
    ignores: ["app/**/*.test.ts", "app/**/*.test.tsx"],
    rules: {
      "no-restricted-syntax": [
        "error",
        noImportForEffect,
        noCallAtLoad,
        noMessageParsing,
        {
          selector: "CallExpression[callee.object.name='z'][callee.property.name='object']",
          message: "Form schemas live beside their route or in the domain, not in components.",
        },
      ],
    },
  },
  {
    files: ["app/**/*.ts", "app/**/*.tsx", "tests/fakes/**", "tests/support/**", "scripts/**"],
    ignores: [
      "app/lib/html.ts",
      "app/lib/ids.ts",
      "app/lib/attribute-types.ts",
      "app/lib/channels.ts",
      "**/*.test.ts",
    ],
    plugins: { engage: oneOfEach },
    rules: { "engage/one-of-each": "error" },
  },
);
