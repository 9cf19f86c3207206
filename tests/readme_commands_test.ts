/**
 * Every command the README prints must run as printed from a fresh clone. This test reads the
 * README's `sh` blocks and checks each `npx -y deno@2.9.6 task NAME ARGS` command against the
 * code: the task exists in `deno.json`, and when it runs a script of `scripts/`, the script's own
 * parser accepts every flag (its `main` with `--help` added exits 0; an unknown flag or a flag
 * missing its value exits 2). `prune`'s flags are also checked for their values (`parseSettings`).
 * The commands' runs on small inputs are tested in the CLIs' own tests.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseSettings } from "../scripts/lib/prune_settings.ts";

const ROOT = new URL("../", import.meta.url);
const README = readFileSync(new URL("README.md", ROOT), "utf8");
const TASKS: Record<string, string> = JSON.parse(readFileSync(new URL("deno.json", ROOT), "utf8"))
  .tasks;
const PREFIX = "npx -y deno@2.9.6 task ";

/** The README's task commands: `sh` blocks, `\` continuations joined, `&&` chains split. */
function readmeCommands(text: string): string[][] {
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  const lines = blocks.flatMap((b) => b.replace(/\\\n\s*/g, " ").split("\n"));
  return lines
    .flatMap((l) => l.replace(/\s+#.*$/, "").split("&&"))
    .map((c) => c.trim())
    .filter((c) => c.startsWith(PREFIX))
    .map((c) => c.slice(PREFIX.length).split(/\s+/));
}

type Main = (
  argv: string[],
  io: { stdout: (t: string) => void; stderr: (t: string) => void; isTTY: boolean },
) => Promise<number>;

Deno.test("README: every task command it prints names a task, and its script accepts the flags as printed", async () => {
  const commands = readmeCommands(README);
  assert.ok(commands.length >= 8, `only ${commands.length} commands found: the parser missed some`);
  const checked: string[] = [];
  for (const [task, ...args] of commands) {
    assert.ok(task in TASKS, `README runs "task ${task}", which deno.json does not define`);
    const script = /\bscripts\/[\w-]+\.ts\b/.exec(TASKS[task])?.[0];
    if (script === undefined) continue; // deno test / bench / check: no flags of ours
    const { main } = await import(new URL(script, ROOT).href) as { main?: Main };
    assert.ok(main, `${script} exports no main`);
    let err = "";
    const io = { stdout: () => {}, stderr: (t: string) => void (err += t), isTTY: false };
    const code = await main([...args, "--help"], io);
    assert.equal(code, 0, `task ${task} ${args.join(" ")}: ${err}`);
    if (task === "prune") assert.doesNotThrow(() => parseSettings(args), args.join(" "));
    checked.push(task);
  }
  for (const task of ["prune", "eval", "extract-layer", "prune-layer", "complexity"]) {
    assert.ok(checked.includes(task), `no README command of task ${task} was checked`);
  }
});

Deno.test("README commands check: a misspelt flag or an unknown task would fail it", async () => {
  const [[task, ...args]] = readmeCommands(
    "```sh\nnpx -y deno@2.9.6 task prune --methd wanda\n```",
  );
  assert.equal(task, "prune");
  const { main } = await import(new URL("scripts/prune.ts", ROOT).href) as { main: Main };
  const io = { stdout: () => {}, stderr: () => {}, isTTY: false };
  assert.equal(await main([...args, "--help"], io), 2);
  assert.ok(!("prun" in TASKS));
});
