"""Execute one Jupyter notebook headless with nbclient and report what went wrong.

Used by lib/experiments/notebooks.ts (run with Debian's /usr/bin/python3, which has
python3-nbclient). Usage:

    nbrun.py INPUT.ipynb OUTPUT.ipynb --cwd DIR --kernel deno --timeout SEC

Two guard cells are added around the notebook's own cells while it runs and removed
from the written copy: Deno's kernel drops unhandled promise rejections and errors
thrown from timers without any output, so the first guard records them (and prints
them to stderr as "Uncaught ...") and the last one reports the ones recorded after
the last cell finished.

Prints one JSON line on stdout: {"failure": str or null, "uncaught": [str]}; cell errors
are read from the executed copy by the caller, which is written even when a cell
fails, so the failing output can be read.
"""

import argparse
import json
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

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

    client = NotebookClient(
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
