// Run after `tsc -p tsconfig.build.json` (npm run build): copies the files the compiled code
// reads at run time (YAML samples and CRDs, .proto files, portal assets, ...) from the source
// folders into dist/, so `node dist/...` and the container image work without the sources.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { projectRoot } from '../test/harness/paths.js';

/** Extensions of run-time assets; TypeScript sources are compiled, never copied. */
export const ASSET_EXTENSIONS = new Set(['.yaml', '.yml', '.proto', '.json', '.html', '.css', '.svg', '.sol', '.txt']);

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (ASSET_EXTENSIONS.has(extname(entry.name)) && !/\.(test|int\.test)\./.test(entry.name)) yield path;
  }
}

/** Copies the assets of the folders tsconfig.build.json compiles; returns the copied paths (relative). */
export function copyAssets(root: string = projectRoot(), outDir: string = join(root, 'dist')): string[] {
  const config = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { include?: string[] };
  const copied: string[] = [];
  for (const folder of config.include ?? []) {
    let files: string[];
    try {
      files = [...walk(join(root, folder))];
    } catch {
      continue; // a folder another branch has not added yet
    }
    for (const file of files) {
      const target = join(outDir, relative(root, file));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(file, target);
      copied.push(relative(root, file));
    }
  }
  return copied;
}

if (process.argv[1] !== undefined && /build-assets\.[jt]s$/.test(process.argv[1])) {
  const copied = copyAssets();
  // The package's bin entries (mesh, kubectl-mesh) run the file directly, as npm link would.
  for (const bin of ['cli/main.js', 'operator/main.js']) {
    const path = join(projectRoot(), 'dist', bin);
    if (existsSync(path)) chmodSync(path, 0o755);
  }
  process.stdout.write(`Copied ${copied.length} run-time assets into dist/ and made the entry points executable\n`);
}
