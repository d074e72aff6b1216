// The in-memory BM25 index alone, without segmentation or results: search p50/p99 for questions of
// topic words, of everyday words and of many common words, and the cost of taking chunks out (with
// the passes that drop their postings). Synthetic chunks of 50–150 words drawn by Zipf's law from 20,000.
//
//   npm run build && node assistant/bench/retrieval/bm25-index.mjs
//   BENCH_CHUNKS=10000 BENCH_QUERIES=500 node assistant/bench/retrieval/bm25-index.mjs
import { performance } from "node:perf_hooks";
import { Bm25Index } from "../../dist/src/storage/bm25-index.js";

const chunks = Number(process.env.BENCH_CHUNKS ?? 100000);
const queryCount = Number(process.env.BENCH_QUERIES ?? 500);
const VOCABULARY = 20000;
const COLLECTIONS = ["assistant", "tenant/acme"];

let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const rank = () => Math.floor(Math.exp(random() * Math.log(VOCABULARY + 1))) - 1;
const index = new Bm25Index();
let postings = 0;
for (let chunkId = 1; chunkId <= chunks; chunkId += 1) {
  const tokens = new Map();
  for (let words = 50 + Math.floor(random() * 100); words > 0; words -= 1) {
    const token = `w${String(rank())}`;
    tokens.set(token, (tokens.get(token) ?? 0) + 1);
  }
  postings += tokens.size;
  index.add({ chunkId, collection: random() < 0.67 ? COLLECTIONS[0] : COLLECTIONS[1], tokens });
}
console.log(`${chunks} chunks, ${postings} postings`);

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
// Topic words come from past the 100 most frequent; everyday words from anywhere, the commonest in most
// chunks; a long question of common words (a Chinese one makes a term of each character and pair) from
// the 100 most frequent alone.
const ranked = (low, high) => () => {
  let drawn = rank();
  while (drawn < low || drawn >= high) drawn = rank();
  return drawn;
};
const kinds = [
  { label: "topic words", words: () => 3 + Math.floor(random() * 6), draw: ranked(100, VOCABULARY) },
  { label: "everyday words too", words: () => 3 + Math.floor(random() * 6), draw: rank },
  { label: "20-30 common words", words: () => 20 + Math.floor(random() * 11), draw: ranked(0, 100) },
];
for (const { label, words, draw } of kinds) {
  const queries = Array.from({ length: queryCount }, () => Array.from({ length: words() }, () => `w${String(draw())}`));
  for (const terms of queries.slice(0, 50)) index.search(COLLECTIONS, terms, 5);
  const times = queries
    .map((terms) => {
      const started = performance.now();
      index.search(COLLECTIONS, terms, 5);
      return performance.now() - started;
    })
    .sort((a, b) => a - b);
  console.log(`  search, ${label}: p50 ${(percentile(times, 50) * 1000).toFixed(0)} µs, p99 ${(percentile(times, 99) * 1000).toFixed(0)} µs`);
}

let total = 0;
let longest = 0;
for (let chunkId = 1; chunkId <= chunks * 0.6; chunkId += 1) {
  const started = performance.now();
  index.remove(chunkId);
  const took = performance.now() - started;
  total += took;
  longest = Math.max(longest, took);
}
console.log(`  taking out ${String(chunks * 0.6)} chunks: ${total.toFixed(0)} ms in all, the longest ${longest.toFixed(1)} ms`);
