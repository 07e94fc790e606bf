/**
 * `deno task reproduce`: trains every registered paper's grid (or those named), writes the
 * summaries and executes the notebooks. The entry point sits above the papers so that the
 * experiment engine below them need not import them (lib/layers_test.ts).
 *
 * @module
 */
import { parseReproduceArgs, reproduce, USAGE } from "../experiments/reproduce.ts";
import { EXTRA_NOTEBOOKS, PAPERS } from "../papers/registry.ts";
import { UsageError } from "../runtime/cli.ts";

async function main(): Promise<number> {
  let options;
  try {
    options = parseReproduceArgs(Deno.args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`reproduce: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const { help: _help, ...rest } = options;
  const report = await reproduce({ ...rest, registry: PAPERS, extraNotebooks: EXTRA_NOTEBOOKS });
  return report.ok ? 0 : 1;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error(`reproduce: ${(error as Error).message}`);
    Deno.exit(2);
  }
}
