import { startPostgres, type TestPostgres } from "./postgres.js";

let postgres: TestPostgres | undefined;

/** The service tier's one throwaway PostgreSQL cluster; every test gets its own database in it. */
export function testPostgres(): TestPostgres {
  if (postgres === undefined) throw new Error("no test PostgreSQL: run the service tier with --require assistant/dist/test/support/postgres-tier.js");
  return postgres;
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(120000);
    postgres = await startPostgres();
  },
  afterAll(): void {
    postgres?.stop();
    postgres = undefined;
  },
};
