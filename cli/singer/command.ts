/**
 * `unified-sync singer --config F`: the Singer target (Meltano, any Singer tap). stdout carries
 * state values only; logs go to stderr.
 */
import type { Command } from "commander";
import { runSinger } from "./target";

export function registerSinger(program: Command) {
  program
    .command("singer")
    .description("A Singer target: SCHEMA, RECORD, STATE and ACTIVATE_VERSION messages on stdin (docs/pipelines.md#singer-target)")
    .requiredOption("--config <file>", "the target's config (JSON; the same keys as the Airbyte destination's)")
    .action(async (flags: { config: string }) => {
      process.exitCode = await runSinger(
        {
          state: (text) => process.stdout.write(`${text}\n`),
          log: (message) => process.stderr.write(`unified-sync singer: ${message}\n`),
        },
        flags.config,
        process.stdin,
      );
    });
}
