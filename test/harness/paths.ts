import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Root of the Mesh OS checkout: the nearest ancestor of this file whose package.json is
 * named `meshos`. Works from the sources (tsx, vitest) and from `dist/` alike.
 */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const packageJson = join(dir, 'package.json');
    if (existsSync(packageJson)) {
      try {
        const parsed = JSON.parse(readFileSync(packageJson, 'utf8')) as { name?: unknown };
        if (parsed.name === 'meshos') return dir;
      } catch {
        // Not ours; keep walking up.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Could not find the Mesh OS project root (package.json named "meshos")');
    dir = parent;
  }
}

/** Expands a leading `~/` the way a shell would. */
export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return path;
}

/** Where built binaries and their build inputs live: `${MESHOS_CACHE_DIR:-~/.cache/meshos}`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['MESHOS_CACHE_DIR'];
  return resolve(fromEnv !== undefined && fromEnv !== '' ? expandHome(fromEnv) : join(homedir(), '.cache', 'meshos'));
}

/** Data directory of `mesh dev up`: `${MESHOS_DEV_DIR:-~/.meshos/dev}`. */
export function defaultDevDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['MESHOS_DEV_DIR'];
  return resolve(fromEnv !== undefined && fromEnv !== '' ? expandHome(fromEnv) : join(homedir(), '.meshos', 'dev'));
}

/** The generated CRD manifests, `crds/generated`, in this checkout. */
export function defaultCrdDir(): string {
  return join(projectRoot(), 'crds', 'generated');
}
