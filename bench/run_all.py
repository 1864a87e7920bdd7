"""Run every benchmark in this folder (``make bench``); extra arguments (e.g. --quick) go to each.

Each benchmark prints its own figures as ratios against the baselines it measures in the same run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHES = ("import_bench.py", "features_bench.py", "models_bench.py", "api_bench.py")


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    failed = []
    for name in BENCHES:
        path = here / name
        if not path.exists():
            print(f"== {name}: not present, skipped")
            continue
        print(f"== {name}", flush=True)
        if subprocess.call([sys.executable, str(path), *argv]) != 0:
            failed.append(name)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
