// Builds the web UI into dist/: index.html, one JS bundle, one CSS bundle and the font files xp.css refers to.
// Usage: node build.mjs [--watch]
import * as esbuild from 'esbuild';
import { copyFile, mkdir, readFile, rm, readdir, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const watch = process.argv.includes('--watch');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await copyFile(join(root, 'src', 'favicon.svg'), join(dist, 'favicon.svg'));

// xp.css ships 98-era bitmap fonts we never use (the UI uses Tahoma-like system fonts, as XP did); dropping their
// @font-face rules keeps ~70 KiB of fonts out of the binary.
const dropXpFonts = {
  name: 'drop-xp-fonts',
  setup(build) {
    build.onLoad({ filter: /xp\.css[\\/]dist[\\/]XP\.css$/ }, async (args) => {
      const css = await readFile(args.path, 'utf8');
      return { contents: css.replace(/@font-face\s*{[^}]*}/g, ''), loader: 'css', resolveDir: dirname(args.path) };
    });
  },
};

const options = {
  plugins: [dropXpFonts],
  entryPoints: { app: join(root, 'src', 'main.js') },
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome100', 'firefox100', 'safari16'],
  minify: !watch,
  sourcemap: false,
  legalComments: 'none',
  outdir: dist,
  // Content-hashed names: index.html is served no-cache, the bundles may be cached for long.
  entryNames: watch ? '[name]' : '[name]-[hash]',
  metafile: true,
  // Fonts keep stable names so the embedded file list stays small and readable.
  assetNames: '[name]',
  loader: { '.woff': 'file', '.woff2': 'file', '.png': 'file' },
  logLevel: 'info',
};

// index.html from the template, pointing at the bundles just built.
async function writeIndex(metafile) {
  const outputs = Object.keys(metafile.outputs).map((f) => basename(f));
  const js = outputs.find((f) => /^app(-[A-Z0-9]+)?\.js$/i.test(f));
  const css = outputs.find((f) => /^app(-[A-Z0-9]+)?\.css$/i.test(f));
  const html = (await readFile(join(root, 'src', 'index.html'), 'utf8'))
    .replace('/app.js', `/${js}`)
    .replace('/app.css', `/${css}`);
  await writeFile(join(dist, 'index.html'), html);
}

if (watch) {
  await writeIndex({ outputs: { 'dist/app.js': {}, 'dist/app.css': {} } });
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  const result = await esbuild.build(options);
  await writeIndex(result.metafile);
  let total = 0;
  for (const f of await readdir(dist)) total += (await stat(join(dist, f))).size;
  console.log(`dist: ${(total / 1024).toFixed(1)} KiB in ${(await readdir(dist)).length} files`);
}
