import pg from "pg";

/** One lock id for every replica's schema changes ("assi" in ASCII): migrations and vector indexes. */
const SCHEMA_LOCK = 0x61737369;

/** The pool every concern of the Postgres store queries through; its functions need no `this`. */
export interface PostgresDatabase {
  pool: pg.Pool;
  /** The rows `sql` returns. */
  rows: <T extends pg.QueryResultRow>(sql: string, values?: unknown[]) => Promise<T[]>;
  /** Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>;
  /** A transaction holding the schema lock, so replicas starting together change the schema one at a time. */
  schemaChange: (work: (client: pg.PoolClient) => Promise<void>) => Promise<void>;
}

export function postgresDatabase(pool: pg.Pool): PostgresDatabase {
  const transaction = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    // A connection that cannot even roll back is broken: it leaves the pool instead of going back to it.
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    } finally {
      client.release(broken);
    }
  };
  return {
    pool,
    rows: async <T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> => (await pool.query<T>(sql, values)).rows,
    transaction,
    schemaChange: (work) =>
      transaction(async (client) => {
        await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
        await work(client);
      }),
  };
}
