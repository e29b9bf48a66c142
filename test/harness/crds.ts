// Installing the project's generated CRD YAML and waiting until the API serves it.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kubectl } from './kubectl.js';
import { defaultCrdDir } from './paths.js';

export class CrdsMissingError extends Error {
  override name = 'CrdsMissingError';
}

const MANIFEST = /\.(ya?ml|json)$/;

/** The manifest files in dir; throws CrdsMissingError when there are none. */
export async function crdManifests(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    entries = [];
  }
  const files = entries.filter((entry) => MANIFEST.test(entry)).sort();
  if (files.length === 0) {
    throw new CrdsMissingError(`No CRD manifests in ${dir}: generate them first with \`npm run gen:crds\` (crds/generate.ts writes crds/generated/*.yaml)`);
  }
  return files.map((file) => join(dir, file));
}

/**
 * Applies every manifest in dir with server-side apply and waits until each CRD is
 * Established. Returns the CRD names (`agents.meshos.dev`, ...).
 */
export async function installCrds(kubectl: Kubectl, dir: string = defaultCrdDir(), options: { timeoutSeconds?: number } = {}): Promise<string[]> {
  const files = await crdManifests(dir);
  const applied = await kubectl(['apply', '--server-side', '--field-manager=meshos-harness', '--force-conflicts', '-o', 'name', ...files.flatMap((file) => ['-f', file])]);
  const crds = applied
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('customresourcedefinition.apiextensions.k8s.io/'));
  if (crds.length === 0) throw new CrdsMissingError(`The manifests in ${dir} contain no CustomResourceDefinition`);
  await kubectl(['wait', '--for', 'condition=established', `--timeout=${options.timeoutSeconds ?? 60}s`, ...crds]);
  return crds.map((crd) => crd.slice(crd.indexOf('/') + 1));
}
