/**
 * BM25 ranking over postings held in memory. FTS5 computes bm25() with a call per matching row
 * through its auxiliary-function API, about a microsecond each; when every word of a question
 * matches a third of the chunks that dominated a chat turn. Here a chunk is scored only when it can
 * still make the list (see `search`), and only the best `limit` are kept, never sorted all together.
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
  /** Increasing: a chunk always takes a slot above every other, so appending keeps the order. */
  slots: number[];
  counts: number[];
  /** How many of the live slots are in each collection (by its number): the term's n per collection. */
  perCollection: Map<number, number>;
  /** Over every slot ever appended: a bound on what the term can add to a chunk's score. */
  maxCount: number;
  minLength: number;
}

/** The chunks and tokens of one collection, for N and the average length over the collections searched. */
interface CollectionTotals {
  chunks: number;
  tokens: number;
}

/** A query term's walk along its postings during a search. */
interface Cursor {
  /** The term's position in the query: scores are summed in query order, as FTS5 sums them. */
  order: number;
  slots: number[];
  counts: number[];
  idf: number;
  /** At least the most the term adds to any chunk of this search. */
  bound: number;
  at: number;
  /** What the term added to the chunk in `scoredSlot`, the one being scored (or one before it). */
  weight: number;
  scoredSlot: number;
}

/** Better first: higher score, then the lower chunk id, so equal scores rank the same every time. */
const before = (score: number, chunkId: number, b: RankedChunk): boolean => score > b.score || (score === b.score && chunkId < b.chunkId);

/** The collection number of a removed chunk's slot: never searched, so its postings are passed over. */
const REMOVED = -1;

/**
 * Bounds and the sums compared with them are raised by this share, far above what rounding can take
 * from them, so a chunk is passed over only when it certainly cannot make the list.
 */
const BOUND_SLACK = 1 + 1e-9;

/** Removed chunks' postings are dropped once they outnumber the live ones (and are this many at least). */
const COMPACT_AFTER = 4096;

/** What a term adds to a chunk's score: FTS5's expression, evaluated in its order, so to the same bit. */
function termWeight(idf: number, count: number, norm: number): number {
  return idf * ((count * (K1 + 1)) / (count + norm));
}

/** What `cursor`'s term adds to the chunk in `slot`, at whose posting it stands; kept for the sum in query order. */
function scoreAt(cursor: Cursor, slot: number, norm: number): number {
  cursor.weight = termWeight(cursor.idf, cursor.counts[cursor.at] ?? 0, norm);
  cursor.scoredSlot = slot;
  return cursor.weight;
}

/** Moves `cursor` to its first slot at or after `slot`: galloping, then a binary search. */
function seek(cursor: Cursor, slot: number): void {
  const { slots } = cursor;
  let low = cursor.at;
  if (low >= slots.length || (slots[low] ?? 0) >= slot) return;
  let step = 1;
  while (low + step < slots.length && (slots[low + step] ?? 0) < slot) {
    low += step;
    step *= 2;
  }
  let high = Math.min(low + step, slots.length);
  low += 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((slots[middle] ?? 0) < slot) low = middle + 1;
    else high = middle;
  }
  cursor.at = low;
}

export class Bm25Index {
  private readonly postings = new Map<string, Postings>();
  private readonly slotOf = new Map<number, number>();
  // Per slot: a chunk lives in a slot, and slots are handed out in increasing order.
  private chunkIds: number[] = [];
  /** Each slot's collection, by number (REMOVED once its chunk is): collections are few, slots many. */
  private collectionOf: number[] = [];
  private readonly collectionNumbers = new Map<string, number>();
  private readonly totals: CollectionTotals[] = [];
  private lengths: number[] = [];
  /** The postings each slot's chunk is in, to take it out of their counts again. */
  private postingsOf: Postings[][] = [];
  private livePostings = 0;
  private removedPostings = 0;

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
    const slot = this.chunkIds.length;
    const number = this.numberOf(collection);
    let length = 0;
    for (const count of tokens.values()) length += count;
    const within: Postings[] = [];
    for (const [token, count] of tokens) {
      let postings = this.postings.get(token);
      if (postings === undefined) {
        postings = { token, slots: [], counts: [], perCollection: new Map(), maxCount: 0, minLength: Infinity };
        this.postings.set(token, postings);
      }
      postings.slots.push(slot);
      postings.counts.push(count);
      postings.perCollection.set(number, (postings.perCollection.get(number) ?? 0) + 1);
      postings.maxCount = Math.max(postings.maxCount, count);
      postings.minLength = Math.min(postings.minLength, length);
      within.push(postings);
    }
    this.slotOf.set(chunkId, slot);
    this.chunkIds.push(chunkId);
    this.collectionOf.push(number);
    this.lengths.push(length);
    this.postingsOf.push(within);
    this.livePostings += within.length;
    const totals = this.totals[number];
    if (totals !== undefined) {
      totals.chunks += 1;
      totals.tokens += length;
    }
  }

  /**
   * Takes a chunk out of every statistic at once; its postings stay, passed over by searches, until
   * they outnumber the live ones and are dropped all together (a posting list is kept in slot order,
   * which taking entries out one by one would cost a shift of the list each).
   */
  remove(chunkId: number): void {
    const slot = this.slotOf.get(chunkId);
    if (slot === undefined) return;
    const number = this.collectionOf[slot] ?? REMOVED;
    const within = this.postingsOf[slot] ?? [];
    for (const postings of within) {
      const left = (postings.perCollection.get(number) ?? 1) - 1;
      if (left > 0) postings.perCollection.set(number, left);
      else postings.perCollection.delete(number);
    }
    const totals = this.totals[number];
    if (totals !== undefined) {
      totals.chunks -= 1;
      totals.tokens -= this.lengths[slot] ?? 0;
    }
    this.collectionOf[slot] = REMOVED;
    this.postingsOf[slot] = [];
    this.slotOf.delete(chunkId);
    this.livePostings -= within.length;
    this.removedPostings += within.length;
    if (this.removedPostings > Math.max(COMPACT_AFTER, this.livePostings)) this.compact();
  }

  /** Drops the removed chunks' slots and postings, numbering the live slots anew in the same order. */
  private compact(): void {
    const renumbered = new Int32Array(this.chunkIds.length).fill(REMOVED);
    const chunkIds: number[] = [];
    const collectionOf: number[] = [];
    const lengths: number[] = [];
    const postingsOf: Postings[][] = [];
    this.collectionOf.forEach((number, slot) => {
      if (number === REMOVED) return;
      const chunkId = this.chunkIds[slot] ?? 0;
      renumbered[slot] = chunkIds.length;
      this.slotOf.set(chunkId, chunkIds.length);
      chunkIds.push(chunkId);
      collectionOf.push(number);
      lengths.push(this.lengths[slot] ?? 0);
      postingsOf.push(this.postingsOf[slot] ?? []);
    });
    for (const postings of this.postings.values()) {
      let kept = 0;
      postings.maxCount = 0;
      postings.minLength = Infinity;
      postings.slots.forEach((slot, index) => {
        const live = renumbered[slot] ?? REMOVED;
        if (live === REMOVED) return;
        const count = postings.counts[index] ?? 0;
        postings.slots[kept] = live;
        postings.counts[kept] = count;
        postings.maxCount = Math.max(postings.maxCount, count);
        postings.minLength = Math.min(postings.minLength, lengths[live] ?? 0);
        kept += 1;
      });
      postings.slots.length = kept;
      postings.counts.length = kept;
      if (kept === 0) this.postings.delete(postings.token);
    }
    this.chunkIds = chunkIds;
    this.collectionOf = collectionOf;
    this.lengths = lengths;
    this.postingsOf = postingsOf;
    this.removedPostings = 0;
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
   *
   * Chunks are visited in slot order across the postings of the query's terms, MaxScore style
   * (Turtle and Flood, 1995, as Lucene and Tantivy do): once the list is full, the terms whose bounds
   * together fall short of its worst score can no longer bring a chunk into it on their own, so
   * their postings are only looked into, for the chunks the other terms bring, and a chunk is left
   * as soon as what its remaining terms could add would not lift it into the list. A common word's
   * long postings are then mostly skipped, and the result is the exhaustive one, to the bit.
   */
  search(collections: readonly string[], terms: readonly string[], limit: number, among?: ReadonlySet<number>): RankedChunk[] {
    // Per collection number: 1 when searched. Looked up once per candidate, so a flat array.
    const inSearch = new Uint8Array(this.totals.length);
    const searched: number[] = [];
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
    // The length part of the formula for a chunk of `length` tokens, the same for each of its terms.
    const lengthNorm = (length: number): number => K1 * (1 - B + (B * length) / averageLength);
    const cursors: Cursor[] = [];
    terms.forEach((term, order) => {
      const postings = this.postings.get(term);
      if (postings === undefined) return;
      let matching = 0;
      for (const number of searched) matching += postings.perCollection.get(number) ?? 0;
      if (matching === 0) return;
      const rawIdf = Math.log((rows - matching + 0.5) / (matching + 0.5));
      const idf = rawIdf > 0 ? rawIdf : MIN_IDF;
      const bound = termWeight(idf, postings.maxCount, lengthNorm(postings.minLength)) * BOUND_SLACK;
      cursors.push({ order, slots: postings.slots, counts: postings.counts, idf, bound, at: 0, weight: 0, scoredSlot: -1 });
    });
    const inQueryOrder = [...cursors];
    // Weakest first: below `essential`, the terms whose bounds together cannot fill a place in the list.
    cursors.sort((a, b) => a.bound - b.bound);
    const boundBelow = [0];
    for (const cursor of cursors) boundBelow.push(((boundBelow[boundBelow.length - 1] ?? 0) + cursor.bound) * BOUND_SLACK);
    let essential = 0;
    const { chunkIds, collectionOf, lengths } = this;
    const best: RankedChunk[] = [];
    let worstInList = -Infinity;
    for (;;) {
      let slot = Infinity;
      for (let index = essential; index < cursors.length; index += 1) {
        const cursor = cursors[index] as Cursor;
        const at = cursor.slots[cursor.at];
        if (at !== undefined && at < slot) slot = at;
      }
      if (slot === Infinity) break;
      let candidate = inSearch[collectionOf[slot] ?? REMOVED] === 1 && (among === undefined || among.has(chunkIds[slot] ?? 0));
      let score = 0;
      const norm = lengthNorm(lengths[slot] ?? 0);
      for (let index = essential; index < cursors.length; index += 1) {
        const cursor = cursors[index] as Cursor;
        if (cursor.slots[cursor.at] !== slot) continue;
        if (candidate) score += scoreAt(cursor, slot, norm);
        cursor.at += 1;
      }
      for (let index = essential - 1; candidate && index >= 0; index -= 1) {
        if ((score + (boundBelow[index + 1] ?? 0)) * BOUND_SLACK < worstInList) candidate = false;
        else {
          const cursor = cursors[index] as Cursor;
          seek(cursor, slot);
          if (cursor.slots[cursor.at] === slot) score += scoreAt(cursor, slot, norm);
        }
      }
      if (!candidate) continue;
      // The score as the exhaustive sum has it: term by term in query order.
      score = 0;
      for (const cursor of inQueryOrder) if (cursor.scoredSlot === slot) score += cursor.weight;
      const chunkId = chunkIds[slot] ?? 0;
      const worst = best[best.length - 1];
      if (best.length === limit && worst !== undefined && !before(score, chunkId, worst)) continue;
      let at = best.length;
      for (let previous = best[at - 1]; previous !== undefined && before(score, chunkId, previous); previous = best[at - 1]) at -= 1;
      best.splice(at, 0, { chunkId, score });
      if (best.length > limit) best.pop();
      if (best.length === limit) {
        worstInList = best[limit - 1]?.score ?? -Infinity;
        while (essential < cursors.length && (boundBelow[essential + 1] ?? 0) < worstInList) essential += 1;
      }
    }
    return best;
  }
}
