/**
 * FTS5's bm25() ranking over postings held in memory. FTS5 computes bm25() with a call per matching
 * row through its auxiliary-function API, about a microsecond each; when every word of a question
 * matches a third of the chunks that dominated a chat turn. Here a matching chunk costs one
 * multiply-add per query term, and only the best `limit` are kept, never sorted all together.
 *
 * The formula, constants and statistics are FTS5's own (fts5_aux.c): k1 = 1.2, b = 0.75,
 * IDF = ln((N - n + 0.5) / (n + 0.5)) clamped to 1e-6, N and the average length over the whole
 * table (every collection), terms summed in query order. So scores equal FTS5's to the last bit or
 * two (C's log and V8's may differ in the last place).
 */
const K1 = 1.2;
const B = 0.75;
const MIN_IDF = 1e-6;

export interface RankedChunk {
  chunkId: number;
  score: number;
}

export interface TokenizedChunk {
  chunkId: number;
  collection: string;
  /** How often each token occurs in the chunk, as the FTS5 tokenizer made them. */
  tokens: ReadonlyMap<string, number>;
}

interface Postings {
  token: string;
  slots: number[];
  counts: number[];
}

/** Better first: higher score, then the lower chunk id, so equal scores rank the same every time. */
const before = (a: RankedChunk, b: RankedChunk): boolean => a.score > b.score || (a.score === b.score && a.chunkId < b.chunkId);

export class Bm25Index {
  private readonly postings = new Map<string, Postings>();
  private readonly slotOf = new Map<number, number>();
  // Per slot: a chunk lives in a slot, so scores can accumulate in a flat array.
  private readonly chunkIds: number[] = [];
  private readonly collections: string[] = [];
  private readonly lengths: number[] = [];
  /** The postings each slot's chunk is in, to take it out of them again. */
  private readonly postingsOf: Postings[][] = [];
  private readonly freeSlots: number[] = [];
  private scores = new Float64Array(0);
  private totalTokens = 0;

  add({ chunkId, collection, tokens }: TokenizedChunk): void {
    this.remove(chunkId);
    const slot = this.freeSlots.pop() ?? this.chunkIds.length;
    let length = 0;
    const within: Postings[] = [];
    for (const [token, count] of tokens) {
      length += count;
      let postings = this.postings.get(token);
      if (postings === undefined) {
        postings = { token, slots: [], counts: [] };
        this.postings.set(token, postings);
      }
      postings.slots.push(slot);
      postings.counts.push(count);
      within.push(postings);
    }
    this.slotOf.set(chunkId, slot);
    this.chunkIds[slot] = chunkId;
    this.collections[slot] = collection;
    this.lengths[slot] = length;
    this.postingsOf[slot] = within;
    this.totalTokens += length;
    if (this.scores.length <= slot) this.scores = new Float64Array(Math.max(64, 2 * (slot + 1)));
  }

  remove(chunkId: number): void {
    const slot = this.slotOf.get(chunkId);
    if (slot === undefined) return;
    for (const postings of this.postingsOf[slot] ?? []) {
      // Order within postings does not matter, so the last entry fills the hole.
      const at = postings.slots.indexOf(slot);
      const lastSlot = postings.slots.pop();
      const lastCount = postings.counts.pop();
      if (at < postings.slots.length && lastSlot !== undefined && lastCount !== undefined) {
        postings.slots[at] = lastSlot;
        postings.counts[at] = lastCount;
      }
      if (postings.slots.length === 0) this.postings.delete(postings.token);
    }
    this.totalTokens -= this.lengths[slot] ?? 0;
    this.postingsOf[slot] = [];
    this.slotOf.delete(chunkId);
    this.freeSlots.push(slot);
  }

  /**
   * The best `limit` chunks of `collections` that contain any of `terms` (single tokens, in query
   * order), best first. A chunk of another collection still counts in N and the average length,
   * as it does for FTS5.
   */
  search(collections: readonly string[], terms: readonly string[], limit: number): RankedChunk[] {
    const rows = this.slotOf.size;
    if (rows === 0 || limit <= 0) return [];
    const averageLength = this.totalTokens / rows;
    const { scores, lengths } = this;
    const touched: number[] = [];
    for (const term of terms) {
      const postings = this.postings.get(term);
      if (postings === undefined) continue;
      const { slots, counts } = postings;
      const rawIdf = Math.log((rows - slots.length + 0.5) / (slots.length + 0.5));
      const idf = rawIdf > 0 ? rawIdf : MIN_IDF;
      for (let index = 0; index < slots.length; index += 1) {
        const slot = slots[index] ?? 0;
        const count = counts[index] ?? 0;
        const length = lengths[slot] ?? 0;
        // Every contribution is positive, so a zero score means the chunk was not seen yet.
        if (scores[slot] === 0) touched.push(slot);
        scores[slot] = (scores[slot] ?? 0) + idf * ((count * (K1 + 1)) / (count + K1 * (1 - B + (B * length) / averageLength)));
      }
    }
    const best: RankedChunk[] = [];
    for (const slot of touched) {
      const candidate = { chunkId: this.chunkIds[slot] ?? 0, score: scores[slot] ?? 0 };
      scores[slot] = 0;
      if (!collections.includes(this.collections[slot] ?? "")) continue;
      const worst = best[best.length - 1];
      if (best.length === limit && worst !== undefined && !before(candidate, worst)) continue;
      let at = best.length;
      while (at > 0 && before(candidate, best[at - 1] ?? candidate)) at -= 1;
      best.splice(at, 0, candidate);
      if (best.length > limit) best.pop();
    }
    return best;
  }
}
