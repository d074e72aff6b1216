/**
 * BM25 ranking over postings held in memory. FTS5 computes bm25() with a call per matching row
 * through its auxiliary-function API, about a microsecond each; when every word of a question
 * matches a third of the chunks that dominated a chat turn. Here a matching chunk costs one
 * multiply-add per query term, and only the best `limit` are kept, never sorted all together.
 *
 * The formula and constants are FTS5's own (fts5_aux.c): k1 = 1.2, b = 0.75,
 * IDF = ln((N - n + 0.5) / (n + 0.5)) clamped to 1e-6, terms summed in query order. The statistics
 * (N, n and the average length) are those of the collections searched, not of the whole table as in
 * FTS5: otherwise a tenant could read from its own documents' scores how often a word occurs in
 * another tenant's. A search therefore scores exactly as FTS5's bm25() would over a table holding
 * only the searched collections (to the last bit or two: C's log and V8's may differ there).
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
  /** How many of the slots are in each collection (by its number): the term's n per collection. */
  perCollection: Map<number, number>;
}

/** The chunks and tokens of one collection, for N and the average length over the collections searched. */
interface CollectionTotals {
  chunks: number;
  tokens: number;
}

/** Better first: higher score, then the lower chunk id, so equal scores rank the same every time. */
const before = (score: number, chunkId: number, b: RankedChunk): boolean => score > b.score || (score === b.score && chunkId < b.chunkId);

export class Bm25Index {
  private readonly postings = new Map<string, Postings>();
  private readonly slotOf = new Map<number, number>();
  // Per slot: a chunk lives in a slot, so scores can accumulate in a flat array.
  private readonly chunkIds: number[] = [];
  /** Each slot's collection, by number: collections are few, slots many. */
  private readonly collectionOf: number[] = [];
  private readonly collectionNumbers = new Map<string, number>();
  private readonly totals: CollectionTotals[] = [];
  private readonly lengths: number[] = [];
  /** The postings each slot's chunk is in, to take it out of them again. */
  private readonly postingsOf: Postings[][] = [];
  private readonly freeSlots: number[] = [];
  private scores = new Float64Array(0);
  /** The slots a search has scored so far, reused from search to search like `scores`. */
  private touched = new Uint32Array(0);

  private numberOf(collection: string): number {
    let number = this.collectionNumbers.get(collection);
    if (number === undefined) {
      number = this.totals.length;
      this.collectionNumbers.set(collection, number);
      this.totals.push({ chunks: 0, tokens: 0 });
    }
    return number;
  }

  add({ chunkId, collection, tokens }: TokenizedChunk): void {
    this.remove(chunkId);
    const slot = this.freeSlots.pop() ?? this.chunkIds.length;
    const number = this.numberOf(collection);
    let length = 0;
    const within: Postings[] = [];
    for (const [token, count] of tokens) {
      length += count;
      let postings = this.postings.get(token);
      if (postings === undefined) {
        postings = { token, slots: [], counts: [], perCollection: new Map() };
        this.postings.set(token, postings);
      }
      postings.slots.push(slot);
      postings.counts.push(count);
      postings.perCollection.set(number, (postings.perCollection.get(number) ?? 0) + 1);
      within.push(postings);
    }
    this.slotOf.set(chunkId, slot);
    this.chunkIds[slot] = chunkId;
    this.collectionOf[slot] = number;
    this.lengths[slot] = length;
    this.postingsOf[slot] = within;
    const totals = this.totals[number];
    if (totals !== undefined) {
      totals.chunks += 1;
      totals.tokens += length;
    }
    if (this.scores.length <= slot) {
      this.scores = new Float64Array(Math.max(64, 2 * (slot + 1)));
      this.touched = new Uint32Array(this.scores.length);
    }
  }

  remove(chunkId: number): void {
    const slot = this.slotOf.get(chunkId);
    if (slot === undefined) return;
    const number = this.collectionOf[slot] ?? 0;
    for (const postings of this.postingsOf[slot] ?? []) {
      const left = (postings.perCollection.get(number) ?? 1) - 1;
      if (left > 0) postings.perCollection.set(number, left);
      else postings.perCollection.delete(number);
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
    const totals = this.totals[number];
    if (totals !== undefined) {
      totals.chunks -= 1;
      totals.tokens -= this.lengths[slot] ?? 0;
    }
    this.postingsOf[slot] = [];
    this.slotOf.delete(chunkId);
    this.freeSlots.push(slot);
  }

  /** How many chunks of `collections` there are, and how many of them contain each token. */
  frequencies(collections: readonly string[], tokens: readonly string[]): { chunks: number; frequencies: number[] } {
    const numbers = [...new Set(collections)].flatMap((collection) => {
      const number = this.collectionNumbers.get(collection);
      return number === undefined ? [] : [number];
    });
    const count = (perCollection: ReadonlyMap<number, number>): number => numbers.reduce((sum, number) => sum + (perCollection.get(number) ?? 0), 0);
    return {
      chunks: numbers.reduce((sum, number) => sum + (this.totals[number]?.chunks ?? 0), 0),
      frequencies: tokens.map((token) => count(this.postings.get(token)?.perCollection ?? new Map<number, number>())),
    };
  }

  /**
   * The best `limit` chunks of `collections` that contain any of `terms` (single tokens, in query
   * order), best first, scored with the statistics of those collections alone. With `among`, only
   * those chunks are candidates (the ones that match a phrase, which only FTS5 can tell).
   */
  search(collections: readonly string[], terms: readonly string[], limit: number, among?: ReadonlySet<number>): RankedChunk[] {
    const searched: number[] = [];
    // Per collection number: 1 when searched. Looked up once per posting, so a flat array.
    const inSearch = new Uint8Array(this.totals.length);
    let rows = 0;
    let tokens = 0;
    for (const collection of collections) {
      const number = this.collectionNumbers.get(collection);
      const totals = number === undefined ? undefined : this.totals[number];
      if (number === undefined || totals === undefined || inSearch[number] === 1) continue;
      inSearch[number] = 1;
      searched.push(number);
      rows += totals.chunks;
      tokens += totals.tokens;
    }
    if (rows === 0 || limit <= 0) return [];
    const averageLength = tokens / rows;
    const { scores, lengths, collectionOf, touched } = this;
    let touchedCount = 0;
    for (const term of terms) {
      const postings = this.postings.get(term);
      if (postings === undefined) continue;
      let matching = 0;
      for (const number of searched) matching += postings.perCollection.get(number) ?? 0;
      if (matching === 0) continue;
      const { slots, counts } = postings;
      const rawIdf = Math.log((rows - matching + 0.5) / (matching + 0.5));
      const idf = rawIdf > 0 ? rawIdf : MIN_IDF;
      for (let index = 0; index < slots.length; index += 1) {
        const slot = slots[index] ?? 0;
        if (inSearch[collectionOf[slot] ?? -1] !== 1) continue;
        const count = counts[index] ?? 0;
        const length = lengths[slot] ?? 0;
        // Every contribution is positive, so a zero score means the chunk was not seen yet.
        if (scores[slot] === 0) touched[touchedCount++] = slot;
        scores[slot] = (scores[slot] ?? 0) + idf * ((count * (K1 + 1)) / (count + K1 * (1 - B + (B * length) / averageLength)));
      }
    }
    // Thousands of chunks may be scored for a common word; only the few that make the list become objects.
    const best: RankedChunk[] = [];
    for (let index = 0; index < touchedCount; index += 1) {
      const slot = touched[index] ?? 0;
      const chunkId = this.chunkIds[slot] ?? 0;
      const score = scores[slot] ?? 0;
      scores[slot] = 0;
      if (among !== undefined && !among.has(chunkId)) continue;
      const worst = best[best.length - 1];
      if (best.length === limit && worst !== undefined && !before(score, chunkId, worst)) continue;
      let at = best.length;
      for (let previous = best[at - 1]; previous !== undefined && before(score, chunkId, previous); previous = best[at - 1]) at -= 1;
      best.splice(at, 0, { chunkId, score });
      if (best.length > limit) best.pop();
    }
    return best;
  }
}
