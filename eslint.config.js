import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The layers of each program's src/, lowest first (docs/design.md, "The operator" and "The
 * assistant"). A module may import its own directory and the directories of lower layers; never a
 * directory of its own layer (siblings stay independent) or of a higher one. Tests may import any.
 */
const layers = {
  operator: [["api", "runtime"], ["resources", "rollout"], ["reconcile"], ["controller"], ["main.ts"]],
  assistant: [["config", "masking", "web"], ["observability"], ["storage"], ["retrieval", "skills", "backup"], ["llm"], ["dialog"], ["http"], ["main.ts"]],
};

/** One no-restricted-imports block per directory: the directories it may not reach with a relative import. */
function layerRules() {
  const blocks = [];
  for (const [program, ranks] of Object.entries(layers)) {
    ranks.forEach((rank, level) => {
      for (const dir of rank) {
        if (dir.endsWith(".ts")) continue;
        const above = ranks.slice(level).flat().filter((other) => other !== dir);
        const dirs = above.filter((other) => !other.endsWith(".ts"));
        const files = above.filter((other) => other.endsWith(".ts")).map((file) => file.replace(/\.ts$/, "\\.js"));
        // A relative path up out of `dir` into a directory (or top-level file) of its layer or above.
        const regex = `^(\\.\\./)+(${[...dirs.map((d) => `${d}/`), ...files.map((f) => `${f}$`)].join("|")})`;
        blocks.push({
          files: [`${program}/src/${dir}/**/*.ts`],
          rules: {
            "no-restricted-imports": [
              "error",
              { patterns: [{ regex, message: `${program}/src/${dir} may import only lower layers (${ranks.slice(0, level).flat().join(", ") || "none"}): see the layers in eslint.config.js and docs/design.md.` }] },
            ],
          },
        });
      }
    });
  }
  return blocks;
}

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "charts/**", "crds/**"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      // @kubernetes/client-node models are classes used as plain data; object literals are the norm.
      "@typescript-eslint/no-unsafe-class-instance-assignment": "off",
    },
  },
  ...layerRules(),
  {
    // Hand-written modules stay small enough to read in one go; split by concern instead.
    files: ["operator/src/**/*.ts", "assistant/src/**/*.ts"],
    ignores: ["operator/src/api/schema.ts", "**/*.generated.ts"],
    rules: { "max-lines": ["error", { max: 400 }] },
  },
  {
    // Tests read optional fields of API objects with ?. on purpose: a missing field must fail
    // as an assertion that names the value, not as a TypeError.
    files: ["**/test/**/*.ts"],
    rules: { "@typescript-eslint/no-unnecessary-condition": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly", setTimeout: "readonly", setInterval: "readonly", fetch: "readonly", performance: "readonly", structuredClone: "readonly" } },
  },
  {
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "writable" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
