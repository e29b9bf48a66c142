// Sentence vectors from word vectors: a weighted mean of the words' unit vectors, with
// frequent words weighted down (smooth inverse frequency, Arora et al. 2017), normalised.
import { words, STOP_WORDS } from './tokenize.js';
import { WORD_VECTOR_DIMENSIONS, type WordVectors } from './word-vectors.js';

/**
 * Weight of a word from its frequency rank in the embedding vocabulary (most frequent
 * first). Zipf's law puts p(w) near 1/(rank·ln N); SIF weights a/(a+p(w)).
 */
export function sifWeight(rank: number, vocabularySize: number, a = 1e-3): number {
  const probability = 1 / ((rank + 1) * Math.log(Math.max(vocabularySize, 2)));
  return a / (a + probability);
}

/** The text's unit sentence vector, or undefined when none of its words is known. */
export function embedText(vectors: WordVectors, text: string): Float32Array | undefined {
  return embedWords(vectors, words(text));
}

/** The unit sentence vector of already split words (see `embedText`). */
export function embedWords(vectors: WordVectors, textWords: readonly string[]): Float32Array | undefined {
  const sum = new Float32Array(WORD_VECTOR_DIMENSIONS);
  let any = false;
  for (const word of textWords) {
    if (STOP_WORDS.has(word)) continue;
    const row = vectors.rowOf(word);
    if (row < 0) continue;
    const weight = sifWeight(row, vectors.size);
    const base = row * WORD_VECTOR_DIMENSIONS;
    for (let d = 0; d < WORD_VECTOR_DIMENSIONS; d++) sum[d] = (sum[d] ?? 0) + weight * (vectors.vectors[base + d] ?? 0);
    any = true;
  }
  if (!any) return undefined;
  return normalise(sum);
}

export function normalise(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let d = 0; d < vector.length; d++) vector[d] = (vector[d] ?? 0) / norm;
  return vector;
}

export function dot(a: Float32Array, b: Float32Array, offsetB = 0): number {
  let sum = 0;
  for (let d = 0; d < a.length; d++) sum += (a[d] ?? 0) * (b[offsetB + d] ?? 0);
  return sum;
}
