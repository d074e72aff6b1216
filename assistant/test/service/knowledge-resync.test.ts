import assert from "node:assert/strict";
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { apiClient } from "../support/client.js";
import type { SearchHit } from "../support/knowledge-api.js";
import { startService, tempDir, type RunningService } from "../support/service.js";

/**
 * A folder laid out as the kubelet mounts a ConfigMap: the visible files are links through `..data`,
 * a link to a timestamped folder that an update replaces by swapping the link in one rename.
 */
function configMapVolume(): { dir: string; publish(files: Record<string, string>): void } {
  const dir = tempDir("configmap");
  let generation = 0;
  return {
    dir,
    publish(files) {
      generation += 1;
      const folder = `..2026_11_28_${generation}`;
      mkdirSync(join(dir, folder));
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, folder, name), text);
      symlinkSync(folder, join(dir, "..data_tmp"));
      renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
      for (const name of Object.keys(files)) {
        rmSync(join(dir, name), { force: true });
        symlinkSync(join("..data", name), join(dir, name));
      }
    },
  };
}

describe("knowledge folder re-sync", function () {
  this.timeout(60000);
  let service: RunningService;
  const volume = configMapVolume();
  const sources = async (query: string): Promise<string[]> =>
    (await apiClient(service.url)<{ items: SearchHit[] }>("POST", "/api/v1/knowledge/search", { query })).body.items.map((item) => `${item.source}: ${item.text}`);
  /** Polls until the knowledge base shows the change; the test's timeout bounds the wait. */
  const eventually = async (check: () => Promise<boolean>): Promise<void> => {
    while (!(await check())) await sleep(100);
  };

  before(async () => {
    volume.publish({ "zoo.md": "# Zoo\n\nThe quokka enclosure opens at nine." });
    service = await startService({ config: { knowledge: { dir: volume.dir, resyncSeconds: 1 } } });
  });
  after(async () => {
    await service.stop();
  });

  it("picks up a ConfigMap update without a restart: changed, added and removed files", async () => {
    assert.deepEqual(await sources("quokka"), ["zoo.md: The quokka enclosure opens at nine."]);
    volume.publish({ "zoo.md": "# Zoo\n\nThe quokka enclosure opens at ten since May.", "aquarium.md": "# Aquarium\n\nThe axolotl tank is on level two." });
    await eventually(async () => (await sources("quokka")).some((hit) => hit.includes("ten since May")) && (await sources("axolotl")).length === 1);
    assert.ok(!(await sources("quokka")).some((hit) => hit.includes("at nine")));
    volume.publish({ "aquarium.md": "# Aquarium\n\nThe axolotl tank is on level two." });
    await eventually(async () => (await sources("quokka")).length === 0);
    assert.equal((await sources("axolotl")).length, 1);
  });
});
