// Bundles the extension into dist/extension.js (vscode stays external), or the unit tests into
// out/test/ (`--tests`), which run on node's own test runner without VS Code.
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const tests = process.argv.includes('--tests');

const options = tests
  ? {
      entryPoints: readdirSync('test/unit').filter((f) => f.endsWith('.test.ts')).map((f) => `test/unit/${f}`),
      outdir: 'out/test',
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['vscode'],
      logLevel: 'warning',
    }
  : {
      entryPoints: ['src/extension.ts'],
      outfile: 'dist/extension.js',
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['vscode'],
      minify: production,
      sourcemap: !production,
      sourcesContent: false,
      logLevel: 'warning',
    };

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
