// Lint rules for the UI: TypeScript's recommended checks, the rules of hooks, and accessibility
// checks on JSX. `npm run lint` runs this after tsc; the generated API schema is not linted.
import js from "@eslint/js";
import jsxA11y from "eslint-plugin-jsx-a11y";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "test-results/", "playwright-report/", "src/api/schema.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["src/**/*.{ts,tsx}"],
    languageOptions: { globals: globals.browser },
    plugins: { "react-hooks": reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  { files: ["src/**/*.tsx"], ...jsxA11y.flatConfigs.recommended },
  {
    files: ["e2e/**/*.{ts,mjs}", "scripts/**/*.mjs", "*.config.{js,ts}"],
    languageOptions: { globals: globals.node },
  },
  { files: ["pwa/sw.js"], languageOptions: { globals: { ...globals.serviceworker, __SHELL__: "readonly" } } },
  { files: ["pwa/**/*.ts"], languageOptions: { globals: globals.node } },
  // Its page callbacks run inside the browser under test.
  { files: ["scripts/budget-tti.mjs"], languageOptions: { globals: { ...globals.node, ...globals.browser } } },
  {
    rules: {
      // `_name` marks a value taken apart on purpose, e.g. `({ [key]: _drop, ...rest })`.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
);
