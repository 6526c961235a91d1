// Lint: typescript-eslint's recommended rules plus a few house rules (no focused/skipped tests,
// no console in library code: logs go through the structured logger).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { boundaryBlocks } from "./eslint.boundaries.mjs";

export default tseslint.config(
  { ignores: ["node_modules/**", ".sandbox/**", "dist/**", "coverage/**", "**/*.generated.*"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.mts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-restricted-syntax": [
        "error",
        {
          selector:
            "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name=/^(only|skip|todo)$/]",
          message: "no focused or skipped tests on main",
        },
        { selector: "ExportAllDeclaration", message: "explicit named exports only (STYLE.md rule 13)" },
      ],
    },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["**/*.cjs", "bin/attestctl"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        require: "readonly",
        process: "readonly",
        module: "writable",
        __dirname: "readonly",
        console: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  ...boundaryBlocks(import.meta.dirname),
);
