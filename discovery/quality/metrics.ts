// Retrieval quality with one relevant item per query.

export interface QualityMetrics {
  'recall@1': number;
  'recall@5': number;
  mrr: number;
  'ndcg@10': number;
}

/** `ranks` holds, per query, the 0-based rank of the relevant item, or -1 when not returned. */
export function qualityMetrics(ranks: readonly number[]): QualityMetrics {
  let r1 = 0;
  let r5 = 0;
  let mrr = 0;
  let ndcg = 0;
  for (const rank of ranks) {
    if (rank < 0) continue;
    if (rank === 0) r1++;
    if (rank < 5) r5++;
    mrr += 1 / (rank + 1);
    // One relevant item: the ideal DCG is 1.
    if (rank < 10) ndcg += 1 / Math.log2(rank + 2);
  }
  const n = Math.max(ranks.length, 1);
  const round = (value: number): number => Math.round((value / n) * 10_000) / 10_000;
  return { 'recall@1': round(r1), 'recall@5': round(r5), mrr: round(mrr), 'ndcg@10': round(ndcg) };
}
