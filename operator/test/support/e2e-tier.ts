import { controlPlaneHooks } from "./tier-hooks.js";

export const mochaHooks = controlPlaneHooks({
  full: true,
  binaries: ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kubectl", "helm"],
});
