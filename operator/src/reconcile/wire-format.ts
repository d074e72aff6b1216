// client-node's model of a NetworkPolicy renames `from` to `_from`, and its serializer drops keys
// its model doesn't know. Desired objects here are the API's own JSON (as the informer caches
// hold them, so the two compare directly), so this kind goes over the wire exactly as built.
// The registry is not re-exported by the package's entry point, hence the deep import (1.4.0).
import { ObjectSerializer } from "@kubernetes/client-node/dist/serializer.js";

const asIs = { serialize: (data: unknown): unknown => data, deserialize: (data: unknown): unknown => data };

ObjectSerializer.registerModel({ group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy" }, asIs);
