// Top-k selection over scored slots without sorting everything.

export interface Scored {
  readonly slot: number;
  readonly score: number;
}

/**
 * Keeps the k best (highest score; ties by lower slot, so results are deterministic) in a
 * small binary min-heap: O(n log k) for n offers.
 */
export class TopK {
  private readonly slots: number[] = [];
  private readonly scores: number[] = [];

  constructor(private readonly k: number) {}

  get size(): number {
    return this.slots.length;
  }

  /**
   * The score a new entry must reach to enter (−Infinity until full). A field kept up to
   * date, not a getter: hot loops read it once per candidate, and a getter returning a double
   * that the compiler does not inline allocates a heap number on every call.
   */
  threshold = -Infinity;

  offer(slot: number, score: number): void {
    if (this.k <= 0) return;
    if (this.slots.length < this.k) {
      this.slots.push(slot);
      this.scores.push(score);
      this.up(this.slots.length - 1);
      if (this.slots.length === this.k) this.threshold = this.scores[0] ?? -Infinity;
      return;
    }
    if (!this.better(slot, score, 0)) return;
    this.slots[0] = slot;
    this.scores[0] = score;
    this.down(0);
    this.threshold = this.scores[0] ?? -Infinity;
  }

  /** Best first. */
  result(): Scored[] {
    const out = this.slots.map((slot, i) => ({ slot, score: this.scores[i] ?? 0 }));
    return out.sort((a, b) => b.score - a.score || a.slot - b.slot);
  }

  /** Whether (slot, score) ranks above the entry at heap position i. */
  private better(slot: number, score: number, i: number): boolean {
    const other = this.scores[i] ?? -Infinity;
    return score > other || (score === other && slot < (this.slots[i] ?? Infinity));
  }

  private swap(i: number, j: number): void {
    const s = this.slots[i] ?? 0;
    const c = this.scores[i] ?? 0;
    this.slots[i] = this.slots[j] ?? 0;
    this.scores[i] = this.scores[j] ?? 0;
    this.slots[j] = s;
    this.scores[j] = c;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      // Min-heap: the worst entry sits at the root.
      if (!this.better(this.slots[parent] ?? 0, this.scores[parent] ?? 0, i)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.slots.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < n && this.better(this.slots[worst] ?? 0, this.scores[worst] ?? 0, left)) worst = left;
      if (right < n && this.better(this.slots[worst] ?? 0, this.scores[worst] ?? 0, right)) worst = right;
      if (worst === i) break;
      this.swap(i, worst);
      i = worst;
    }
  }
}
