"""Figure 4: cold import of every Lambda function module in a fresh interpreter, .pyc present.

What a Lambda cold start adds on top of the runtime's own start-up; the API function is held to its budget.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import REPO, child_env, section, table

API_BUDGET_MS = 250.0
API_LABEL = "functions/api/app.py"
IMPORT_RUNS = 5
REFERENCE_IMPORT = "import boto3, pydantic; from aws_lambda_powertools.event_handler import APIGatewayRestResolver"

_LOAD_BY_PATH = """
import importlib.util, sys, time  # the Lambda runtime has importlib loaded before it imports a handler
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
assert callable(module.handler)
print(time.perf_counter() - t0)
"""

_STATEMENT = """
import time
t0 = time.perf_counter()
{statement}
print(time.perf_counter() - t0)
"""


def _run_python(code: str, env: dict, extra_flags: list[str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *(extra_flags or []), "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tempfile.gettempdir(),
    )


def _run_checked(code: str, env: dict, flags: list[str]) -> tuple[float, float]:
    """One fresh interpreter: (seconds the child measured, process wall seconds)."""
    t0 = time.perf_counter()
    proc = _run_python(code, env, flags)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return float(proc.stdout.strip().splitlines()[-1]), wall


def _measure_all(targets: list[tuple[str, str]], env: dict, flags: list[str]) -> dict[str, tuple[list, list]]:
    """A warm-up run of each (writes the .pyc), then IMPORT_RUNS rounds over all targets (round-robin,
    so a slow spell of this machine does not land on one target)."""
    for _, code in targets:
        _run_checked(code, env, flags)
    out: dict[str, tuple[list, list]] = {label: ([], []) for label, _ in targets}
    for _ in range(IMPORT_RUNS):
        for label, code in targets:
            inside, wall = _run_checked(code, env, flags)
            out[label][0].append(inside)
            out[label][1].append(wall)
    return out


def _importtime(code: str, env: dict, flags: list[str]) -> list[tuple[str, float]]:
    """(module, self ms) in import order, from one `-X importtime` run."""
    proc = _run_python(code, env, [*flags, "-X", "importtime"])
    out = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            self_us, _, name = line[len("import time:") :].split("|", 2)
            out.append((name.strip(), int(self_us) / 1000))
    return out


def _import_cost_by_package(code: str, env: dict, flags: list[str], n: int = 8) -> list[tuple[str, float]]:
    """Self import time summed by top-level package, leaving out what interpreter start-up imports."""
    at_startup = {name for name, _ in _importtime("pass", env, flags)}
    totals: dict[str, float] = {}
    for name, ms in _importtime(code, env, flags):
        if name not in at_startup:
            root = name.split(".", 1)[0]
            totals[root] = totals.get(root, 0.0) + ms
    return sorted(totals.items(), key=lambda kv: -kv[1])[:n]


def bench_cold_imports(tmp: Path) -> None:
    section(f"4. Cold import in a fresh interpreter, .pyc present (median of {IMPORT_RUNS}; ms)")
    prefix = tmp / "pycache"  # .pyc for everything go here (warm-up run), nothing is written in the repo
    flags = ["-X", f"pycache_prefix={prefix}"]
    env = child_env()
    functions = sorted(p.parent for p in (REPO / "functions").glob("*/app.py"))
    targets: list[tuple[str, str]] = [
        (f"functions/{d.name}/app.py", _LOAD_BY_PATH.format(path=str(d / "app.py"))) for d in functions
    ]
    targets.append(("reference statement (below)", _STATEMENT.format(statement=REFERENCE_IMPORT)))
    targets.append(("nothing (python -c pass): interpreter only", _STATEMENT.format(statement="pass")))

    measured = _measure_all(targets, env, flags)
    compiled = sum(1 for _ in prefix.rglob("*.pyc"))
    rows = []
    for label, _ in targets:
        inside, wall = measured[label]
        median_ms = statistics.median(inside) * 1000
        budget = ""
        if label == API_LABEL:
            budget = f"budget {API_BUDGET_MS:.0f} ms: " + ("OK" if median_ms <= API_BUDGET_MS else "OVER BUDGET")
        rows.append(
            [
                label,
                f"{median_ms:.0f}",
                f"{min(inside) * 1000:.0f}",
                f"{max(inside) * 1000:.0f}",
                f"{statistics.median(wall) * 1000:.0f}",
                budget,
            ]
        )
    print(table(["module", "import", "min", "max", "process wall", ""], rows, "lrrrrl"))
    print(f"  reference statement: {REFERENCE_IMPORT}")
    print("  'import' = time to load the module inside an already started interpreter (what a Lambda cold start")
    print("  adds on top of the runtime's own start-up); 'process wall' adds interpreter start-up and exit.")
    print(f"  .pyc: one discarded warm-up run per module compiled {compiled} files into a temp -X pycache_prefix")
    print("  (nothing is written in the repo); without .pyc (a Lambda zip without __pycache__) expect several")
    print("  times more. Local Python is 3.11; template.yaml deploys python3.12, so treat these as indicative.")

    # where the time goes: the API function and the slowest other function
    code_of = dict(targets)
    slowest = max(
        (label for label in code_of if label.startswith("functions/") and label != API_LABEL),
        key=lambda label: statistics.median(measured[label][0]),
        default=None,
    )
    for label in (API_LABEL, slowest):
        if label in code_of:
            print(f"  {label}: import time by top-level package (self time summed, one -X importtime run):")
            print(
                "    "
                + ", ".join(f"{name} {ms:.0f}" for name, ms in _import_cost_by_package(code_of[label], env, flags))
            )
