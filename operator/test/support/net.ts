import { createServer } from "node:net";

/** Listens on `port` of 127.0.0.1 and lets go at once: the port bound, or undefined when it is taken. */
function tryPort(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => {
      resolve(undefined);
    });
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      server.close();
      resolve(address !== null && typeof address !== "string" ? address.port : undefined);
    });
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for a process the test starts:
 * `preferred` when it is free, else one the OS picks.
 */
export async function freePort(preferred?: number): Promise<number> {
  const port = (preferred === undefined ? undefined : await tryPort(preferred)) ?? (await tryPort(0));
  if (port === undefined) throw new Error("the OS gave no TCP port");
  return port;
}
