// Runs in a worker thread (wal-checkpoints.ts): its own connection to the database checkpoints the
// WAL on a timer, so the copy into the database file and its fsyncs never hold the event loop.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const { file, intervalMs } = workerData as { file: string; intervalMs: number };
const db = new Database(file);
// PASSIVE copies what no reader still needs and never waits for one: the service's queries go on.
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const timer = setInterval(() => {
  checkpoint.get();
}, intervalMs);
parentPort?.once("message", () => {
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
