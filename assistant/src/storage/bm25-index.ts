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
  /** Entries of removed chunks still in `slots`, passed over by searches until they are dropped. */
  removed: number;
  /** Over the entries in `slots`, removed ones included: bounds on what the term can add to a chunk's score. */
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

/** Removed chunks' slots are given back, every slot numbered anew, once they outnumber the live ones and are this many. */
const RENUMBER_AFTER = 65_536;

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

const slotAt = (cursor: Cursor): number => cursor.slots[cursor.at] ?? Infinity;

/** Restores the order of a min-heap of cursors by the slot each stands at, below `index`. */
function siftDown(heap: Cursor[], index: number): void {
  const cursor = heap[index] as Cursor;
  const slot = slotAt(cursor);
  for (let at = index; ; ) {
    let child = 2 * at + 1;
    if (child >= heap.length) {
      heap[at] = cursor;
      return;
    }
    if (child + 1 < heap.length && slotAt(heap[child + 1] as Cursor) < slotAt(heap[child] as Cursor)) child += 1;
    const lower = heap[child] as Cursor;
    if (slotAt(lower) >= slot) {
      heap[at] = cursor;
      return;
    }
    heap[at] = lower;
    at = child;
  }
}

/** The cursors that have postings left, as a min-heap by the slot each stands at. */
function heapOf(cursors: readonly Cursor[]): Cursor[] {
  const heap = cursors.filter((cursor) => cursor.at < cursor.slots.length);
  for (let index = (heap.length >> 1) - 1; index >= 0; index -= 1) siftDown(heap, index);
  return heap;
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
  private readonly renumberAfter: number;

  /** `renumberAfter` is RENUMBER_AFTER but in tests, which give slots back sooner to see it done. */
  constructor(renumberAfter = RENUMBER_AFTER) {
    this.renumberAfter = renumberAfter;
  }

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
        postings = { token, slots: [], counts: [], perCollection: new Map(), removed: 0, maxCount: 0, minLength: Infinity };
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
    const totals = this.totals[number];
    if (totals !== undefined) {
      totals.chunks += 1;
      totals.tokens += length;
    }
  }

  /**
   * Takes a chunk out of every statistic at once. Its entries stay in its words' postings, passed
   * over by searches, until they are half of a list, which then drops them in one pass: a list is
   * kept in slot order, which taking entries out one by one would cost a shift of the list each.
   */
  remove(chunkId: number): void {
    const slot = this.slotOf.get(chunkId);
    if (slot === undefined) return;
    const number = this.collectionOf[slot] ?? REMOVED;
    const totals = this.totals[number];
    if (totals !== undefined) {
      totals.chunks -= 1;
      totals.tokens -= this.lengths[slot] ?? 0;
    }
    this.collectionOf[slot] = REMOVED;
    this.slotOf.delete(chunkId);
    for (const postings of this.postingsOf[slot] ?? []) {
      const left = (postings.perCollection.get(number) ?? 1) - 1;
      if (left > 0) postings.perCollection.set(number, left);
      else postings.perCollection.delete(number);
      postings.removed += 1;
      if (2 * postings.removed > postings.slots.length) this.dropRemoved(postings, (slot) => slot);
    }
    this.postingsOf[slot] = [];
    const removedSlots = this.chunkIds.length - this.slotOf.size;
    if (removedSlots > Math.max(this.renumberAfter, this.slotOf.size)) this.renumber();
  }

  /** Drops a list's entries of removed chunks, numbering its slots with `slotFor`, and tightens its bounds. */
  private dropRemoved(postings: Postings, slotFor: (slot: number) => number): void {
    let kept = 0;
    postings.maxCount = 0;
    postings.minLength = Infinity;
    postings.slots.forEach((slot, index) => {
      if (this.collectionOf[slot] === REMOVED) return;
      const count = postings.counts[index] ?? 0;
      postings.slots[kept] = slotFor(slot);
      postings.counts[kept] = count;
      postings.maxCount = Math.max(postings.maxCount, count);
      postings.minLength = Math.min(postings.minLength, this.lengths[slot] ?? 0);
      kept += 1;
    });
    postings.slots.length = kept;
    postings.counts.length = kept;
    postings.removed = 0;
    if (kept === 0) this.postings.delete(postings.token);
  }

  /** Gives the removed chunks' slots back: the live ones are numbered anew, in the same order. */
  private renumber(): void {
    const renumbered = new Int32Array(this.chunkIds.length).fill(REMOVED);
    let live = 0;
    this.collectionOf.forEach((number, slot) => {
      if (number !== REMOVED) renumbered[slot] = live++;
    });
    for (const postings of this.postings.values()) this.dropRemoved(postings, (slot) => renumbered[slot] ?? REMOVED);
    const keep = <T>(values: T[]): T[] => values.filter((_, slot) => (renumbered[slot] ?? REMOVED) !== REMOVED);
    this.chunkIds = keep(this.chunkIds);
    this.lengths = keep(this.lengths);
    this.postingsOf = keep(this.postingsOf);
    this.collectionOf = keep(this.collectionOf);
    this.chunkIds.forEach((chunkId, slot) => this.slotOf.set(chunkId, slot));
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
    // Per collection number + 1 (so that REMOVED reads index 0, never set): 1 when searched.
    const inSearch = new Uint8Array(this.totals.length + 1);
    const searched: number[] = [];
    let rows = 0;
    let tokens = 0;
    for (const collection of collections) {
      const number = this.collectionNumbers.get(collection);
      const totals = number === undefined ? undefined : this.totals[number];
      if (number === undefined || totals === undefined || inSearch[number + 1] === 1) continue;
      inSearch[number + 1] = 1;
      searched.push(number);
      rows += totals.chunks;
      tokens += totals.tokens;
    }
    if (rows === 0 || limit <= 0) return [];
    const averageLength = tokens / rows;
    // The length part of the formula for a chunk of `length` tokens, the same for each of its terms.
    const lengthNorm = (length: number): number => K1 * (1 - B + (B * length) / averageLength);
    const inQueryOrder: Cursor[] = [];
    for (const term of terms) {
      const postings = this.postings.get(term);
      if (postings === undefined) continue;
      let matching = 0;
      for (const number of searched) matching += postings.perCollection.get(number) ?? 0;
      if (matching === 0) continue;
      const rawIdf = Math.log((rows - matching + 0.5) / (matching + 0.5));
      const idf = rawIdf > 0 ? rawIdf : MIN_IDF;
      const bound = termWeight(idf, postings.maxCount, lengthNorm(postings.minLength)) * BOUND_SLACK;
      inQueryOrder.push({ slots: postings.slots, counts: postings.counts, idf, bound, at: 0, weight: 0, scoredSlot: -1 });
    }
    // Weakest first: below `essential`, the terms whose bounds together cannot fill a place in the list.
    const cursors = [...inQueryOrder].sort((a, b) => a.bound - b.bound);
    const boundBelow = [0];
    for (const cursor of cursors) boundBelow.push(((boundBelow[boundBelow.length - 1] ?? 0) + cursor.bound) * BOUND_SLACK);
    let essential = 0;
    // The essential terms' cursors by the slot each stands at: the next chunk to visit is the top's.
    let heap = heapOf(cursors);
    const { chunkIds, collectionOf, lengths } = this;
    const best: RankedChunk[] = [];
    let worstInList = -Infinity;
    for (let top = heap[0]; top !== undefined; top = heap[0]) {
      const slot = slotAt(top);
      let candidate = inSearch[(collectionOf[slot] ?? REMOVED) + 1] === 1 && (among === undefined || among.has(chunkIds[slot] ?? 0));
      const norm = candidate ? lengthNorm(lengths[slot] ?? 0) : 0;
      let score = 0;
      // Every essential cursor standing at this slot comes to the top in turn.
      for (let cursor = heap[0]; cursor !== undefined && slotAt(cursor) === slot; cursor = heap[0]) {
        if (candidate) score += scoreAt(cursor, slot, norm);
        cursor.at += 1;
        if (cursor.at >= cursor.slots.length) {
          const last = heap.pop() as Cursor;
          if (heap.length === 0) break;
          heap[0] = last;
        }
        siftDown(heap, 0);
      }
      for (let index = essential - 1; candidate && index >= 0; index -= 1) {
        if ((score + (boundBelow[index + 1] ?? 0)) * BOUND_SLACK < worstInList) candidate = false;
        else {
          const cursor = cursors[index] as Cursor;
          seek(cursor, slot);
          if (slotAt(cursor) === slot) score += scoreAt(cursor, slot, norm);
        }
      }
      if (!candidate || (best.length === limit && score * BOUND_SLACK < worstInList)) continue;
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
        const wasEssential = essential;
        while (essential < cursors.length && (boundBelow[essential + 1] ?? 0) < worstInList) essential += 1;
        if (essential !== wasEssential) heap = heapOf(cursors.slice(essential));
      }
    }
    return best;
  }
}
