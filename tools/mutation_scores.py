"""Print the mutation score per core module from mutmut's results in mutants/ (make mutants).

Killed counts mutants a test failed on (timeouts too: the mutant never finished); the score is
killed / (total - not yet checked). Surviving mutants are listed by name: ``mutmut show NAME``
prints the change. Run from the project root after ``mutmut run``.
"""

import json
import sys
import tomllib
from pathlib import Path

KILLED = {1, 3, 36, 24, -24, 152, 255}  # test failed, pytest internal error, timeouts
SURVIVED = {0}
NO_TESTS = {33, 5}


def main() -> int:
    config = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["mutmut"]
    rows = []
    for module in config["only_mutate"]:
        meta = Path("mutants") / f"{module}.meta"
        if not meta.exists():
            rows.append((module, None))
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        rows.append((module, codes))

    header = ("module", "killed", "survived", "no tests", "unchecked", "score")
    print("{:<28} {:>7} {:>9} {:>9} {:>10} {:>7}".format(*header))
    survivors = []
    for module, codes in rows:
        if codes is None:
            print(f"{module:<28} {'(not run)':>7}")
            continue
        killed = sum(1 for c in codes.values() if c in KILLED)
        survived = [k for k, c in codes.items() if c in SURVIVED]
        no_tests = [k for k, c in codes.items() if c in NO_TESTS]
        unchecked = sum(1 for c in codes.values() if c is None)
        other = [
            k for k, c in codes.items() if c is not None and c not in KILLED | SURVIVED | NO_TESTS
        ]
        checked = len(codes) - unchecked
        score = f"{100 * killed / checked:.1f}%" if checked else "-"
        print(
            f"{module:<28} {killed:>3}/{checked:<3} {len(survived):>9} {len(no_tests):>9} "
            f"{unchecked:>10} {score:>7}"
        )
        survivors += [(k, "survived") for k in survived]
        survivors += [(k, "no tests") for k in no_tests]
        survivors += [(k, f"exit {codes[k]}") for k in other]
    if survivors:
        print("\nNot killed (mutmut show NAME):")
        for name, why in sorted(survivors):
            print(f"  {name}  [{why}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
