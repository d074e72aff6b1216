import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { controlPlaneHooks } from "./tier-hooks.js";

const imagesScript = fileURLToPath(new URL("../../../../hack/images.sh", import.meta.url));
const controlPlane = controlPlaneHooks({ full: false, binaries: ["etcd", "kube-apiserver"] });

/**
 * Mocha root hooks of the container tier: build both images with hack/images.sh, its progress
 * shown as it goes (cached layers make this seconds when nothing changed; a cold build takes
 * minutes), then start the api tier's control plane for the operator image to talk to.
 */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(60 * 60_000);
    const build = spawn(imagesScript, ["build", "assistant", "operator"], { stdio: ["ignore", "inherit", "inherit"] });
    const [code] = (await once(build, "exit")) as [number | null];
    if (code !== 0) throw new Error(`hack/images.sh build exited with ${String(code)}`);
    await controlPlane.beforeAll.call(this);
  },
  afterAll(this: Mocha.Context) {
    controlPlane.afterAll.call(this);
  },
};
