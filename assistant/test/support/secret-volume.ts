import { existsSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

let versions = 0;

/**
 * Writes `files` into `dir` the way the kubelet's atomic writer updates a mounted Secret: the data
 * goes into a new hidden, timestamped folder, the `..data` symlink is swapped to it by one rename,
 * and each visible name is a symlink through `..data`.
 */
export function writeSecretVolume(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  versions += 1;
  const version = `..${Date.now()}_${versions}`;
  mkdirSync(join(dir, version));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, version, name), text);
  const data = join(dir, "..data");
  const previous = existsSync(data) ? readlinkSync(data) : undefined;
  symlinkSync(version, join(dir, "..data_tmp"));
  renameSync(join(dir, "..data_tmp"), data);
  const visible = new Set(readdirSync(dir).filter((name) => !name.startsWith(".")));
  for (const name of Object.keys(files)) {
    if (!visible.has(name)) symlinkSync(join("..data", name), join(dir, name));
  }
  for (const name of visible) {
    if (!(name in files)) unlinkSync(join(dir, name));
  }
  if (previous !== undefined) rmSync(join(dir, previous), { recursive: true });
}
