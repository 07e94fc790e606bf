/**
 * Runs the fault spec's grid in a process of its own, so that a test can kill the grid's
 * parent process mid-run: `deno run -A grid_driver.ts <results> <work> <row>...`.
 *
 * @module
 */
import { runGrid } from "../grid.ts";

const [results, work, ...rows] = Deno.args;
const report = await runGrid({
  specModule: new URL("./fault_spec.ts", import.meta.url).href,
  scale: "cpu",
  seeds: [0],
  quick: true,
  workers: 2,
  rows,
  roots: { results, work },
  backend: "cpu",
  echo: false,
});
console.log(JSON.stringify(report.cells.map((c) => c.status)));
