import type { V1Deployment } from "@kubernetes/client-node";

/**
 * The two colors of blue-green: each runs its own Deployment, and the stable Service selects one.
 * They sit at the bottom, beside the API types, because both the desired objects (resources/) and
 * the state machine that decides between them (rollout/) speak of them, and neither may import the other.
 */
export type Color = "blue" | "green";
export const colors = ["blue", "green"] as const satisfies readonly Color[];
export const otherColor = (color: Color): Color => (color === "blue" ? "green" : "blue");

/** How one color's Deployment should look: its replica count, and whether it gets the spec's template. */
export interface ColorPlan {
  replicas: number;
  /** "keep": leave the pod template the Deployment already runs (an old revision stays intact). */
  template: "desired" | "keep";
}

/** Which color serves, what each color runs, and the Deployments as the cluster has them. */
export interface ColorLayout {
  active: Color;
  /** The color the stable Service selects, when not the active one (a cutover in flight). */
  stable?: Color;
  colors: Record<Color, ColorPlan>;
  observed: Record<Color, V1Deployment | undefined>;
  /** The preview Service exists (see RolloutPlan.preview); otherwise it is deleted. */
  preview: boolean;
}
