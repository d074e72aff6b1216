import { openPostgresStorage } from "../../src/storage/postgres.js";
import { testPostgres } from "../support/postgres-tier.js";
import { describeStoreContract } from "../support/store-contract.js";

describeStoreContract("PostgreSQL", async () => {
  const url = await testPostgres().createDatabase();
  // One test process, so every running job is one a "stopped replica" left behind.
  const open = () => openPostgresStorage(url, { staleJobMs: 0 });
  let storage = await open();
  return {
    storage,
    async reopen() {
      await storage.close();
      storage = await open();
      return storage;
    },
    async dispose() {
      await storage.close();
    },
  };
});
