/**
 * The images this release of the operator deploys by default. Release tooling bumps the tag
 * here and nowhere else; the chart and kustomize bases take theirs from the same version.
 */
export const imageRepository = "ghcr.io/aiassistant-dev";
export const imageTag = "0.1.0";
export const defaultAssistantImage = `${imageRepository}/ai-assistant:${imageTag}`;
export const operatorImage = `${imageRepository}/ai-assistant-operator:${imageTag}`;
