// Bundles with esbuild: the extension into dist/extension.js (no flag: with a source map;
// --production: minified, what `vsce package` ships), or only the unit tests (--tests, into
// out/unit/) or only the e2e harness (--e2e: the test-driver extension and the Playwright script).
// usage: node client/build.mjs [--production | --tests | --e2e]
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node18', logLevel: 'warning', absWorkingDir: root };

// The extension: one file, `vscode` provided by the host.
if (!args.has('--tests') && !args.has('--e2e')) {
  await esbuild.build({
    ...common,
    entryPoints: ['client/src/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode'],
    sourcemap: production ? false : 'linked',
    minify: production,
  });
}

if (args.has('--tests')) {
  const tests = readdirSync(join(root, 'client/test')).filter((f) => f.endsWith('.test.ts'));
  await esbuild.build({
    ...common,
    entryPoints: tests.map((f) => `client/test/${f}`),
    outdir: 'out/unit',
    sourcemap: 'inline',
  });
}

if (args.has('--e2e')) {
  // The test-driver extension (runs inside the workbench) and the Playwright script.
  await esbuild.build({ ...common, entryPoints: ['client/e2e/driver/src/extension.ts'], outfile: 'client/e2e/driver/dist/extension.js', external: ['vscode'] });
  await esbuild.build({ ...common, entryPoints: ['client/e2e/gui.ts'], outfile: 'out/e2e/gui.js', external: ['playwright-core'] });
}
