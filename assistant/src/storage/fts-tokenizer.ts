import Database from "better-sqlite3";

/** How often each token occurs in a text. */
export type TokenCounts = ReadonlyMap<string, number>;

/**
 * Counts the tokens an FTS5 table's own tokenizer makes of a text (unicode61 folding, Porter stemming
 * and whatever else its declaration names), so an index kept beside the table agrees with it token for
 * token. FTS5 itself does the work, in a scratch table declared like the real one in a private
 * in-memory database: the real table's transactions and WAL are never touched.
 */
export interface FtsTokenizer {
  count(texts: readonly string[]): TokenCounts[];
  /** The same for query terms (a term of more than one token is a phrase), cached: people ask in a bounded vocabulary. */
  countTerms(terms: readonly string[]): TokenCounts[];
  close(): void;
}

/** Enough for the vocabulary people actually ask in; a flood of made-up words only empties it. */
const TERM_CACHE_SIZE = 50_000;

/** `columns` is the argument list of the real table's `USING fts5 (...)`, e.g. `terms, tokenize = 'porter unicode61'`. */
export function openFtsTokenizer(columns: string): FtsTokenizer {
  const db = new Database(":memory:");
  // One text at a time in a contentless table: its per-table vocabulary is then the text's token
  // counts, and emptying it is one 'delete-all' instead of tokenizing the row again to remove it.
  db.exec(`CREATE VIRTUAL TABLE scratch USING fts5 (${columns}, content = ''); CREATE VIRTUAL TABLE scratch_tokens USING fts5vocab (scratch, row);`);
  const insert = db.prepare("INSERT INTO scratch (rowid, terms) VALUES (1, ?)");
  const tokens = db.prepare<[], [string, number]>("SELECT term, cnt FROM scratch_tokens").raw();
  const clear = db.prepare("INSERT INTO scratch (scratch) VALUES ('delete-all')");
  const count = db.transaction((texts: readonly string[]) =>
    texts.map((text) => {
      insert.run(text);
      const counts = new Map(tokens.all());
      clear.run();
      return counts;
    }),
  );
  const cache = new Map<string, TokenCounts>();
  return {
    count,
    countTerms(terms) {
      const missing = [...new Set(terms.filter((term) => !cache.has(term)))];
      if (missing.length > 0) {
        if (cache.size + missing.length > TERM_CACHE_SIZE) cache.clear();
        const counted = count(missing);
        missing.forEach((term, index) => cache.set(term, counted[index] ?? new Map()));
      }
      return terms.map((term) => cache.get(term) ?? new Map<string, number>());
    },
    close() {
      db.close();
    },
  };
}
