// ESLint flat config: typescript-eslint's recommended rules without type information, so the
// whole tree lints in seconds. Formatting is Prettier's job (`prettier --check .` in scripts/lint).
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

// The Node.js globals the plain JavaScript files use, for no-undef (TypeScript files get theirs
// from @types/node, and typescript-eslint turns no-undef off for them).
const nodeGlobals = {
  console: "readonly",
  process: "readonly",
  URL: "readonly",
};
const commonJsGlobals = { ...nodeGlobals, require: "readonly", module: "writable", exports: "writable", __dirname: "readonly", __filename: "readonly" };

export default defineConfig(
  {
    ignores: ["node_modules/", "policy/node_modules/", ".build/", "policy/.build/", ".tools/", "bench/out/", "coverage/"],
  },
  {
    files: ["**/*.ts", "**/*.mts", "**/*.mjs"],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      sourceType: "module",
      globals: nodeGlobals,
    },
    rules: {
      // `const { dropped: _, ...rest } = x` is how the code leaves a key out; `_name` marks a
      // parameter a signature requires but the body does not use.
      "@typescript-eslint/no-unused-vars": ["error", { ignoreRestSiblings: true, argsIgnorePattern: "^_" }],
    },
  },
  {
    // The CLI launcher is plain CommonJS run by node.
    files: ["bin/*.js", "policy/main.js"],
    extends: [js.configs.recommended],
    languageOptions: {
      sourceType: "commonjs",
      globals: commonJsGlobals,
    },
  },
);
