import { requestAnnotations } from "../api/labels.js";
import type { RolloutSettings } from "./plan.js";

/** How an aborted rollout's Degraded message says why the revision was not promoted. */
export function whyNotPromoted(reason: string, settings: RolloutSettings): string {
  switch (reason) {
    case "ProgressDeadlineExceeded":
      return `was not ready within progressDeadlineSeconds (${String(settings.progressDeadlineSeconds)})`;
    case "PreviewExpired":
      return `was not promoted within previewTTLSeconds (${String(settings.previewTTLSeconds)})`;
    case "RolledBack":
      return `was rolled back by the ${requestAnnotations.rollback} annotation`;
    default:
      return `was aborted by the ${requestAnnotations.abort} annotation`;
  }
}
