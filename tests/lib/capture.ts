/**
 * A `CliIo` that collects what a script writes, for tests that call a script's `main` in process.
 *
 * @module
 */
import type { CliIo } from "../../scripts/lib/cli.ts";

/** A {@link CliIo} whose output is kept in `out` and `err`. */
export interface CapturedIo extends CliIo {
  /** Everything written to stdout. */
  out: string;
  /** Everything written to stderr. */
  err: string;
}

/**
 * A fresh capturing io (not a TTY, so no progress bars).
 *
 * @returns The io; read `out` and `err` after the call.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { capture } from "./capture.ts";
 * const io = capture();
 * io.stdout("a");
 * io.stderr("b");
 * assert.deepEqual([io.out, io.err, io.isTTY], ["a", "b", false]);
 * ```
 */
export function capture(): CapturedIo {
  const io: CapturedIo = {
    out: "",
    err: "",
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
    isTTY: false,
  };
  return io;
}
