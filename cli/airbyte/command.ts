/**
 * `unified-sync airbyte spec | check --config F | write --config F --catalog F`: the Airbyte
 * destination's three commands. stdout carries Airbyte messages only.
 */
import type { Command } from "commander";
import { runCheck } from "./check";
import { emit, stdoutOutput } from "./protocol";
import { specMessage } from "./spec";
import { runWrite } from "./write";

export function registerAirbyte(program: Command) {
  const airbyte = program
    .command("airbyte")
    .description("An Airbyte destination: Airbyte Protocol messages on stdin and stdout (docs/pipelines.md#airbyte-destination)");
  airbyte
    .command("spec")
    .description("print the SPEC message")
    .action(() => {
      emit(stdoutOutput, specMessage());
    });
  airbyte
    .command("check")
    .description("print a CONNECTION_STATUS: can this config write to its vector store?")
    .requiredOption("--config <file>", "the destination's config (JSON)")
    .action(async (flags: { config: string }) => {
      process.exitCode = await runCheck(stdoutOutput, flags.config);
    });
  airbyte
    .command("write")
    .description("read RECORD and STATE messages from stdin, write them, echo each STATE once committed")
    .requiredOption("--config <file>", "the destination's config (JSON)")
    .requiredOption("--catalog <file>", "the configured catalog (JSON)")
    .action(async (flags: { config: string; catalog: string }) => {
      process.exitCode = await runWrite(stdoutOutput, flags.config, flags.catalog, process.stdin);
    });
}
