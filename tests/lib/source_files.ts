/**
 * The TypeScript files of the repository, for tests that read the source as text.
 *
 * @module
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, with a trailing slash. */
export const ROOT: string = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Every `.ts` file under `dir`, recursively.
 *
 * @param dir An absolute folder path.
 * @returns The files' absolute paths.
 */
export function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}
