import { controlPlaneHooks } from "./tier-hooks.js";

export const mochaHooks = controlPlaneHooks({ full: false, binaries: ["etcd", "kube-apiserver"] });
