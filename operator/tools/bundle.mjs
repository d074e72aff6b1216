// Bundles the operator and every dependency it calls into one ES module, dist/bundle/operator.mjs,
// for its image: the image then needs no node_modules (84 MB installed, 6 MB bundled). The licence
// of every bundled package goes beside it in THIRD-PARTY-LICENSES.txt.
//
//   npm run bundle --workspace operator
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const workspace = new URL("..", import.meta.url).pathname;
const outdir = join(workspace, "dist/bundle");

const { metafile } = await build({
  entryPoints: [join(workspace, "src/main.ts")],
  outfile: join(outdir, "operator.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node26",
  metafile: true,
  logLevel: "warning",
  // Some dependencies are CommonJS and call require() for Node's own modules; an ES module has no
  // require of its own, so the bundle makes one.
  banner: { js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' },
});

/** The folders of the packages whose code went into the bundle, from the paths of its inputs. */
const packageDirs = new Set();
for (const input of Object.keys(metafile.inputs)) {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (match) packageDirs.add(join(process.cwd(), match[1]));
}
const notices = [...packageDirs].sort().map((dir) => {
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const licenceFile = readdirSync(dir).find((name) => /^(licen[cs]e|copying)/i.test(name));
  const text = licenceFile ? readFileSync(join(dir, licenceFile), "utf8").trim() : `License: ${manifest.license ?? "unknown"}`;
  return `${manifest.name}@${manifest.version}\n\n${text}\n`;
});
writeFileSync(join(outdir, "THIRD-PARTY-LICENSES.txt"), notices.join(`\n${"-".repeat(72)}\n\n`));
