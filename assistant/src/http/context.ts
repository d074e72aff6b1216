import type { DialogManager } from "../dialog/dialog.js";
import type { ModelProvider } from "../llm/types.js";
import type { Metrics } from "../observability/metrics.js";
import type { Storage } from "../storage/types.js";

/** Lifecycle flags the process owns and the probes report. */
export interface ServiceState {
  draining: boolean;
  /** The listener is closing: requests still arriving on kept-alive connections are turned away. */
  closing: boolean;
  knowledgeLoaded: boolean;
}

export interface HttpLimits {
  maxMessageChars: number;
  bodyLimitBytes: number;
  maxPageSize: number;
  sseHeartbeatMs: number;
}

export interface HttpContext {
  dialog: DialogManager;
  storage: Storage;
  provider: ModelProvider;
  metrics: Metrics;
  state: ServiceState;
  limits: HttpLimits;
}

/** Until auth lands every caller is in one tenant; storage already scopes every query by it. */
export const DEFAULT_TENANT = "default";
