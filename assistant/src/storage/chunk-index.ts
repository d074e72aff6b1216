import type { Database } from "better-sqlite3";
import { Bm25Index, type RankedChunk } from "./bm25-index.js";
import { openFtsTokenizer, type FtsTokenizer, type TokenCounts } from "./fts-tokenizer.js";
import type { ChunkHit, TermFrequencies } from "./types.js";

/** A stored chunk as a search shows it, with the tokens FTS5 made of its terms. */
export interface IndexedChunk extends Omit<ChunkHit, "chunkId" | "score"> {
  chunkId: number;
  tokens: TokenCounts;
}

type ShownChunk = Omit<ChunkHit, "score">;

/**
 * The chunks of the `chunks` and `chunks_fts` tables in memory: a BM25 index of their terms, and the
 * fields a search result shows (a chunk's row never changes: new content gets new chunks). The tables
 * stay the source of truth: everything here is read from them when the database opens (so a restored
 * or migrated file is taken as it is), and every write of chunks applies the same change here once its
 * transaction has committed. Only this process writes the database (embedded storage runs one
 * replica), so nothing else can change the tables behind its back.
 */
export class ChunkIndex {
  private readonly index = new Bm25Index();
  private readonly chunks = new Map<number, ShownChunk>();
  private readonly tokenizer: FtsTokenizer;

  constructor(db: Database) {
    const declaration = db.prepare<[], string>("SELECT sql FROM sqlite_schema WHERE name = 'chunks_fts'").pluck().get() ?? "";
    this.tokenizer = openFtsTokenizer(declaration.slice(declaration.indexOf("(") + 1, declaration.lastIndexOf(")")));
    const rows = db
      .prepare<[], Omit<IndexedChunk, "tokens"> & { terms: string }>(
        `SELECT c.id AS chunkId, c.document_id AS documentId, c.collection, d.title, d.source, c.heading, c.text, f.terms
         FROM chunks_fts f JOIN chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.document_id`,
      )
      .all();
    const terms: string[] = [];
    const chunks = rows.map(({ terms: text, ...chunk }) => {
      terms.push(text);
      return chunk;
    });
    const tokens = this.tokenizer.count(terms);
    this.replace(
      [],
      chunks.map((chunk, index) => ({ ...chunk, tokens: tokens[index] ?? new Map<string, number>() })),
    );
  }

  /** The tokens FTS5 makes of each chunk's terms, for `replace` after the chunks are stored. */
  tokenize(terms: readonly string[]): TokenCounts[] {
    return this.tokenizer.count(terms);
  }

  /** Applies a committed write: `removed` chunks left the tables, `added` ones entered them. */
  replace(removed: readonly number[], added: readonly IndexedChunk[]): void {
    for (const chunkId of removed) {
      this.index.remove(chunkId);
      this.chunks.delete(chunkId);
    }
    for (const { tokens, ...chunk } of added) {
      this.index.add({ chunkId: chunk.chunkId, collection: chunk.collection, tokens });
      this.chunks.set(chunk.chunkId, { ...chunk, chunkId: String(chunk.chunkId) });
    }
  }

  /**
   * The best `limit` chunks of `collections` for `terms`, OR-ed. Where tokens stand in a chunk only
   * FTS5 knows, so when a term is a phrase of several tokens ("vpn.example.com") `phraseMatches` is
   * asked which chunks match the query; the index scores those by their tokens, like any others,
   * with the statistics of the searched collections alone.
   */
  search(collections: readonly string[], terms: readonly string[], limit: number, phraseMatches: () => readonly number[]): RankedChunk[] {
    const phrases = this.tokenizer.countTerms(terms);
    const anyPhrase = phrases.some((tokens) => [...tokens.values()].reduce((sum, count) => sum + count, 0) > 1);
    // A term FTS5 makes no token of matches nothing and adds nothing to any score.
    return this.index.search(
      collections,
      phrases.flatMap((tokens) => [...tokens.keys()]),
      limit,
      anyPhrase ? new Set(phraseMatches()) : undefined,
    );
  }

  /**
   * How many chunks of `collections` there are, and how many contain each term; a term of several
   * tokens counts as often as its rarest token (an upper bound), one FTS5 makes no token of is null.
   */
  termFrequencies(collections: readonly string[], terms: readonly string[]): TermFrequencies {
    const phrases = this.tokenizer.countTerms(terms).map((tokens) => [...tokens.keys()]);
    const { chunks, frequencies } = this.index.frequencies(collections, phrases.flat());
    let next = 0;
    return {
      chunks,
      frequencies: phrases.map((tokens) => {
        const counts = frequencies.slice(next, (next += tokens.length));
        return counts.length === 0 ? null : Math.min(...counts);
      }),
    };
  }

  /** Ranked chunk ids (from any index) as search results, keeping only those of `collections`. */
  hits(ranked: readonly RankedChunk[], collections: readonly string[]): ChunkHit[] {
    return ranked.flatMap(({ chunkId, score }) => {
      const chunk = this.chunks.get(chunkId);
      return chunk !== undefined && collections.includes(chunk.collection) ? [{ ...chunk, score }] : [];
    });
  }

  close(): void {
    this.tokenizer.close();
  }
}
