// Builds the UI into web/dist: one bundle (app.js, app.css) from src/ and
// the libraries in node_modules (npm ci from package-lock.json), and
// index.html. Nothing is fetched at run time: every asset is served by
// coinhound serve from this folder.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.env.COINHOUND_WEB_OUT || join(here, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(here, 'src/app.js') },
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  outdir: out,
  logLevel: 'warning',
  legalComments: 'linked',
});
copyFileSync(join(here, 'src/index.html'), join(out, 'index.html'));
console.log(`web: built ${out}`);
