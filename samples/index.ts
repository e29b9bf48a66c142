// The sample manifests, in the order they must be applied (the namespace and the Mesh
// before the Agents and the Proposal that reference them). For `mesh dev` and tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** Absolute path of the samples directory. */
export const SAMPLES_DIR = fileURLToPath(new URL('./', import.meta.url));

/** Sample files in apply order. */
export const SAMPLE_FILES = ['namespace.yaml', 'mesh.yaml', 'agents.yaml', 'proposal.yaml'] as const;

export type SampleFile = (typeof SAMPLE_FILES)[number];

/** The namespace the namespaced samples live in. */
export const SAMPLE_NAMESPACE = 'meshos-demo';

/** Name of the sample Mesh that every sample Agent and Proposal references. */
export const SAMPLE_MESH = 'demo';

export interface SampleDocument {
  file: SampleFile;
  /** Position of the document in its file, from 0. */
  index: number;
  manifest: Record<string, unknown>;
}

/** Absolute path of a sample file. */
export function samplePath(file: SampleFile): string {
  return fileURLToPath(new URL(file, import.meta.url));
}

/** Parses the sample files (all, or those given) into manifests, in apply order. */
export function loadSamples(files: readonly SampleFile[] = SAMPLE_FILES): SampleDocument[] {
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(samplePath(file), 'utf8')).map((document, index) => {
      if (document.errors.length > 0) {
        throw new Error(`samples/${file} document ${index}: ${document.errors.map((e) => e.message).join('; ')}`);
      }
      return { file, index, manifest: document.toJS() as Record<string, unknown> };
    }),
  );
}
