"""Execute one Jupyter notebook headless with nbclient and report what went wrong.

Used by lib/experiments/notebooks.ts (run with Debian's /usr/bin/python3, which has
python3-nbclient). Usage:

    nbrun.py INPUT.ipynb OUTPUT.ipynb --cwd DIR --kernel deno --timeout SEC

Two guard cells are added around the notebook's own cells while it runs and removed
from the written copy: Deno's kernel drops unhandled promise rejections and errors
thrown from timers without any output, so the first guard records them (and prints
them to stderr as "Uncaught ...") and the last one reports the ones recorded after
the last cell finished.

Deno's kernel (2.9) publishes what a cell prints or displays from a queue that it
drains on its own schedule, tagging each message with the request being handled when
the message leaves the queue, not when it was made. So a cell's last outputs can go
out after the cell's `idle` status (nbclient has stopped listening: the output is
lost) or tagged with the next cell's request (misplaced). `FlushingClient` closes that
race: after each cell it sends a silent request that prints a marker through the same
queue, and gives the cell every message that arrives until the marker, whichever
request it is tagged with; the queue is first-in first-out, so once the marker is
there nothing of the cell is left behind. JupyterLab and VS Code run the notebooks
unchanged (lib/runtime/display.ts waits briefly after each broadcast for them).

Prints one JSON line on stdout: {"failure": str or null, "uncaught": [str]}; cell errors
are read from the executed copy by the caller, which is written even when a cell
fails, so the failing output can be read.
"""

import argparse
import asyncio
import json
import queue
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async

GUARD_TAG = "reid-harness-guard"

PRELUDE = """\
// reid-harness-guard: record async errors the kernel would otherwise drop
(globalThis as Record<string, unknown>).__reidUncaught = [];
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  const text = e.reason instanceof Error ? (e.reason.stack ?? String(e.reason)) : String(e.reason);
  ((globalThis as Record<string, unknown>).__reidUncaught as string[]).push(text);
  console.error("Uncaught (in promise) " + text);
});
globalThis.addEventListener("error", (e) => {
  e.preventDefault();
  const text = e.error instanceof Error ? (e.error.stack ?? String(e.error)) : String(e.message);
  ((globalThis as Record<string, unknown>).__reidUncaught as string[]).push(text);
  console.error("Uncaught " + text);
});
"""

EPILOGUE = """\
// reid-harness-guard: let pending timers and promises settle, then report
await new Promise((resolve) => setTimeout(resolve, 50));
console.log("__REID_UNCAUGHT__" + JSON.stringify((globalThis as Record<string, unknown>).__reidUncaught));
"""


FLUSH_MARKER = "__REID_FLUSH__"
# Messages a cell never owns: its own bookkeeping, and the flush request's.
NOT_OUTPUT = {"status", "execute_input", "execute_reply", "shutdown_reply"}


class FlushMarkerLost(Exception):
    """The flush request's marker did not arrive: the kernel stopped publishing."""


class FlushingClient(NotebookClient):
    """nbclient, but no output of a cell is lost to the kernel's late publishing."""

    flush_timeout = 60.0

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        runs = cell.cell_type == "code" and bool(cell.source.strip())
        try:
            result = await super().async_execute_cell(
                cell, cell_index, execution_count=execution_count, store_history=store_history
            )
        except CellExecutionError:
            if runs:
                await self.flush_late_outputs(cell, cell_index)
            raise
        if runs:
            await self.flush_late_outputs(cell, cell_index)
        return result

    async def flush_late_outputs(self, cell, cell_index):
        """Give `cell` every message published before the flush marker."""
        self.flush_count = getattr(self, "flush_count", 0) + 1
        marker = f"{FLUSH_MARKER}{self.flush_count}__"
        # silent: no execution count, no execute_result; the marker still goes through
        # the kernel's output queue behind everything the cell left in it.
        self.kc.execute(f'console.log("{marker}");', silent=True, store_history=False)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.flush_timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise FlushMarkerLost(
                    f"cell {cell_index + 1}: the kernel did not print the flush marker "
                    f"within {self.flush_timeout:.0f} s"
                )
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=remaining))
            except queue.Empty:
                continue
            if msg["msg_type"] in NOT_OUTPUT:
                continue
            content = msg["content"]
            if msg["msg_type"] == "stream" and marker in content.get("text", ""):
                rest = content["text"].replace(marker + "\n", "").replace(marker, "")
                if rest:
                    self.process_message({**msg, "content": {**content, "text": rest}},
                                         cell, cell_index)
                return
            self.process_message(msg, cell, cell_index)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--cwd", required=True)
    parser.add_argument("--kernel", default="deno")
    parser.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args()

    nb = nbformat.read(args.input, as_version=4)
    own_cells = list(nb.cells)
    prelude = nbformat.v4.new_code_cell(PRELUDE, metadata={"tags": [GUARD_TAG]})
    epilogue = nbformat.v4.new_code_cell(EPILOGUE, metadata={"tags": [GUARD_TAG]})
    nb.cells = [prelude] + own_cells + [epilogue]

    client = FlushingClient(
        nb,
        timeout=args.timeout,
        kernel_name=args.kernel,
        allow_errors=False,
        resources={"metadata": {"path": args.cwd}},
    )
    failure = None
    try:
        client.execute()
    except CellTimeoutError as exc:
        failure = f"timeout: {str(exc).splitlines()[0] if str(exc) else 'cell timed out'}"
    except DeadKernelError as exc:
        failure = f"kernel died: {exc}"
    except CellExecutionError:
        failure = "cell error"
    except FlushMarkerLost as exc:
        failure = f"outputs incomplete: {exc}"
    except Exception as exc:  # noqa: BLE001 - any harness failure must be reported, not hidden
        failure = f"{type(exc).__name__}: {exc}"

    uncaught = []
    for output in epilogue.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            for line in output.get("text", "").splitlines():
                if line.startswith("__REID_UNCAUGHT__"):
                    uncaught = json.loads(line[len("__REID_UNCAUGHT__"):])
    for guard in (prelude, epilogue):
        for output in guard.get("outputs", []):
            if output.get("output_type") == "error":
                failure = failure or "harness guard cell failed"
                uncaught.append(f"{output.get('ename')}: {output.get('evalue')}")

    nb.cells = own_cells
    nbformat.write(nb, args.output)
    print(json.dumps({"failure": failure, "uncaught": uncaught}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
