import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * V8's full collection, without starting mocha with --expose-gc: the flag set at run time exposes
 * `gc` to contexts made after it, such as a new vm context.
 */
export function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}
