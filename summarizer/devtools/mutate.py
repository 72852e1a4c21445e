"""Mutation testing of the core, one module group at a time (`make mutate`).

mutmut makes small deliberate bugs (mutants) in the code and runs the tests against
each; a mutant that no test notices is a behaviour nothing guards. Run over the
whole suite, every mutant of the goal reader would also run the end-to-end tests
(CLI, browse, faults), which cost minutes and add nothing. So each group of core
modules gets its own mutmut run, in its own copy of the project under
`build/mutation/<group>/`, with only the test files written for that group; mutmut
then narrows further to the tests that call the mutated function. On 2 cores the
whole run takes well under an hour.

The result is a per-module table (mutants tried, killed, survived, with no test,
timed out) in `results/mutation/summary.md`, next to the baseline taken before
issue 14's tests (`results/mutation/baseline.json`), and a list of the surviving
mutants with their diffs in `build/mutation/survivors.md` for review.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Floors on the samples and the written-for-the-purpose forms (the development corpus
# is not in the copies, so its floors skip there).
FLOORS = [
    "tests/test_floors.py::test_rules_backend_scores_at_or_above_the_floors[samples]",
    "tests/test_floors.py::test_rules_backend_scores_at_or_above_the_floors[forms]",
]


@dataclass(frozen=True)
class Group:
    """Core modules mutated together and the test files that are meant to guard them."""

    name: str
    modules: tuple[str, ...]
    tests: tuple[str, ...]


GROUPS = (
    Group("cleaning", ("summarizer/ingest/clean.py", "summarizer/ingest/noise.py"),
          ("tests/test_clean.py", "tests/test_properties.py", "tests/test_mutation_guards_clean.py")),
    Group("outline", ("summarizer/extract/structure.py",),
          ("tests/test_structure.py", "tests/test_mutation_guards_outline.py", *FLOORS)),
    Group("duties", ("summarizer/extract/duty.py",),
          ("tests/test_duty.py", "tests/test_properties.py", "tests/test_mutation_guards_duty.py", *FLOORS)),
    Group("goals", ("summarizer/extract/goals.py", "summarizer/extract/numbers.py"),
          ("tests/test_goals.py", "tests/test_mutation_guards_goals.py", *FLOORS)),
    Group("metadata", ("summarizer/extract/metadata.py",),
          ("tests/test_metadata.py", "tests/test_mutation_guards_metadata.py", *FLOORS)),
    Group("scoring", ("summarizer/evaluation/scoring.py",),
          ("tests/test_scoring.py", "tests/test_mutation_guards_scoring.py", *FLOORS)),
    Group("cache", ("summarizer/backends/llm_cache.py",),
          ("tests/test_llm.py", "tests/test_mutation_guards_cache.py")),
    Group("store", ("summarizer/store/db.py",),
          ("tests/test_store_cli.py", "tests/test_mutation_guards_store.py")),
)

# Lines whose mutants change only what a person reads, never what the code does:
# the text of an error message (tests check the kind of error, not its wording).
DO_NOT_MUTATE = [r"raise \w+Error\(f?\""]

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout", None: "not checked"}
COLUMNS = ("mutants", "killed", "survived", "no tests", "timeout", "equivalent", "other")

# Modules whose string literals are SQL: table and column names, keywords and pragmas,
# all case-insensitive in SQLite, so a mutant that only changes their letter case is
# equivalent by construction (see `sql_case_equivalent`). Not pragmas in the code: the
# store is being rewritten on another branch, and a rule here survives that.
SQL_MODULES = ("summarizer/store/db.py", "summarizer/backends/llm_cache.py")
SQL_WORDS = frozenset(
    "select from where and or not in is null order by desc asc limit group max min as coalesce delete "
    "insert into update set pragma on off normal wal full rowid busy_timeout foreign_keys synchronous "
    "journal_mode".split())


def sql_names() -> frozenset[str]:
    """Every table and column name of the results database and the call cache, lower-cased:
    the schema is built here from the migrations, so the rule follows the code."""
    import sqlite_utils

    from summarizer.backends.llm_cache import COLUMNS as CACHE_COLUMNS
    from summarizer.backends.llm_cache import TABLE as CACHE_TABLE
    from summarizer.store import db as store

    db = sqlite_utils.Database(memory=True)
    db.table("_migrations").create({"name": str, "applied_at": str}, pk="name")
    for fn in store.MIGRATIONS:
        fn(db)
    db.table(CACHE_TABLE).create(CACHE_COLUMNS, pk="request_hash")
    names = {t.lower() for t in db.table_names()}
    names |= {c.name.lower() for t in db.table_names() for c in db.table(t).columns}
    return frozenset(names)


def sql_case_equivalent(removed: str, added: str, names: frozenset[str]) -> bool:
    """True when the mutant only changes the letter case of a literal made of SQL words
    and schema names (or of a codec name), and the literal is not a Python dict key."""
    import codecs

    pairs = [(a, b) for a, b in zip(re.findall(r"\"([^\"]*)\"", removed), re.findall(r"\"([^\"]*)\"", added))
             if a != b]
    if len(pairs) != 1:
        return False
    a, b = pairs[0]
    if b.lower() != a.lower() or re.search(rf"\[\"{re.escape(b)}\"\]|\.get\(\"{re.escape(b)}\"", added):
        return False
    try:
        if codecs.lookup(a).name == codecs.lookup(b).name:
            return True  # codec names: Python looks them up case-insensitively
    except LookupError:
        pass
    words = re.findall(r"[A-Za-z_][A-Za-z_0-9]*", a)
    return bool(words) and all(w.lower() in SQL_WORDS or w.lower() in names for w in words)


def _toml_list(items: list[str] | tuple[str, ...]) -> str:
    return json.dumps(list(items), ensure_ascii=False)


def prepare_group(group: Group, root: Path, work: Path) -> Path:
    """A fresh copy of the project for one group, with a pyproject that mutates only
    the group's modules and selects only its tests (those that exist in root)."""
    dest = work / group.name
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in ("summarizer", "tests", "eval", "prompts", "schemas"):
        if (root / name).exists():
            shutil.copytree(root / name, dest / name, ignore=ignore)
    tests = [t for t in group.tests if (root / t.split("::")[0]).exists()]
    markers = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["tool"]["pytest"]["ini_options"]["markers"]
    (dest / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        'testpaths = ["tests"]\n'
        f"markers = {_toml_list(markers)}\n\n"
        "[tool.mutmut]\n"
        'source_paths = ["summarizer"]\n'
        f"only_mutate = {_toml_list(group.modules)}\n"
        'also_copy = ["prompts/", "eval/", "schemas/"]\n'
        f"do_not_mutate_patterns = {_toml_list(DO_NOT_MUTATE)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-m", "not model"]\n'
        f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
        "use_git_change_detection = false\n"
        # A mutant that loops forever (`while True` in the pinyin pass) is stopped after
        # a few times its tests' time rather than mutmut's default of fifteen; the ten
        # seconds on top keep a busy machine (2 shared cores) from stopping a mutant
        # whose tests are merely slow, which would count it as caught.
        "timeout_multiplier = 3.0\n"
        "timeout_constant = 10.0\n",
        "utf-8",
    )
    return dest


def run_group(dest: Path, max_children: int, cap_s: float) -> tuple[bool, float]:
    """Run mutmut in the group's copy; False when the time cap stopped it."""
    start = time.monotonic()
    log = (dest / "mutmut.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)],
                            cwd=dest, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        proc.wait(timeout=cap_s)
        finished = True
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        finished = False
    log.close()
    return finished, time.monotonic() - start


def collect(dest: Path, group: Group, diffs: dict[str, str] | None = None
            ) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Per-module status counts and the names of the surviving mutants (equivalent ones
    included, so their diffs are listed too). Survivors in SQL_MODULES are told apart
    by their diff: a case-only change of an SQL name counts as equivalent, not survived.
    `diffs` (name -> diff) is filled with every survivor's diff when given."""
    from concurrent.futures import ThreadPoolExecutor

    counts: dict[str, dict[str, int]] = {}
    survivors: list[str] = []
    for module in group.modules:
        meta = dest / "mutants" / f"{module}.meta"
        statuses: dict[str, str] = {}
        if meta.exists():
            codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
            statuses = {key: STATUS.get(code, "other") for key, code in sorted(codes.items())}
        alive = [k for k, st in statuses.items() if st in ("survived", "no tests")]
        survivors += alive
        need = alive if diffs is not None else (alive if module in SQL_MODULES else [])
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            shown = dict(zip(need, pool.map(lambda k: show(dest, k), need)))
        if diffs is not None:
            diffs.update(shown)
        if module in SQL_MODULES and alive:
            names = sql_names()
            for key in alive:
                if sql_case_equivalent(*diff_lines(shown[key]), names):
                    statuses[key] = "equivalent"
        c = Counter(statuses.values())
        total = sum(c.values())
        counts[module] = {k: c[k] for k in COLUMNS[1:-1]}
        counts[module].update(mutants=total, other=total - sum(counts[module].values()))
    return counts, survivors


def show(dest: Path, name: str) -> str:
    """mutmut's diff of one mutant."""
    out = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=dest,
                         capture_output=True, text=True, timeout=120)
    return out.stdout.strip()


# Why a mutant can survive, told from its diff: (name, test on the changed line pair, explanation).
KINDS: tuple[tuple[str, str], ...] = (
    ("equivalent: SQL name case", "EQUIVALENT, not counted as survived: in the store modules, a literal made only "
     "of SQL keywords, pragma names and the schema's table and column names (or a codec name) upper- or "
     "lower-cased; SQLite (and Python's codec lookup) ignore the case, and the rule skips Python dict keys"),
    ("X-padded string", "a string literal padded with XX: where the string is a set of characters (`ch in "
     "\"（(\"`, `strip(\"。，\")`) it only adds the letter X, so it changes nothing on text without a Latin "
     "X; elsewhere it renames a key or message no test reads"),
    ("case-changed string", "a string literal upper- or lower-cased: SQL keywords, column names, pragmas and "
     "codec names are case-insensitive and CJK has no case, so mostly equivalent; else a key no test reads"),
    ("boundary", "a comparison or a constant moved by one (`<`/`<=`, `0`/`1`, `8`/`9`): the rule's edge, "
     "where the genre's text rarely sits"),
    ("None or emptied", "a value replaced by None, an empty string or a call argument dropped, on a path "
     "whose result the callers treat alike (falsy or default)"),
    ("other", "a path no test of this group reaches with an input that tells the two apart"),
)


def kind_of(removed: str, added: str, sql_names_: frozenset[str] | None = None) -> str:
    """The survivor class of one mutated line (see KINDS); sql_names_ given for SQL_MODULES."""
    if sql_names_ is not None and sql_case_equivalent(removed, added, sql_names_):
        return "equivalent: SQL name case"
    if re.search(r"\"XX.*XX\"|'XX.*XX'", added):
        return "X-padded string"
    lits = zip(re.findall(r"\"([^\"]*)\"", removed), re.findall(r"\"([^\"]*)\"", added))
    if any(b == a.upper() != a or b == a.lower() != a for a, b in lits):
        return "case-changed string"
    tok_r, tok_a = re.findall(r"\w+|[<>=!]=?|\S", removed), re.findall(r"\w+|[<>=!]=?|\S", added)
    if len(tok_r) == len(tok_a):
        diff = [(x, y) for x, y in zip(tok_r, tok_a) if x != y]
        if len(diff) == 1:
            x, y = diff[0]
            if {x, y} <= {"<", "<=", ">", ">="} or (x.isdigit() and y.isdigit() and abs(int(x) - int(y)) <= 1):
                return "boundary"
            if y in ("None", "''", '""'):
                return "None or emptied"
    if ("None" in added and "None" not in removed) or (len(added) < len(removed) and added.rstrip(")") in removed):
        return "None or emptied"
    return "other"


def diff_lines(diff: str) -> tuple[str, str]:
    """The first removed and added code lines of a mutmut diff."""
    minus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return (minus[0] if minus else ""), (plus[0] if plus else "")


def survived_share(row: dict[str, int], raw: bool = False) -> float:
    """Survivors (including mutants no test reaches) per mutant tried, equivalent mutants
    left out of both (the usual mutation score); raw counts them as survivors."""
    eq = row.get("equivalent", 0)
    n = row["mutants"] - (0 if raw else eq)
    return (row["survived"] + row["no tests"] + (eq if raw else 0)) / n if n else 0.0


def render(latest: dict, baseline: dict | None) -> str:
    """The summary table: per module, before (baseline) and after (this run)."""
    lines = ["# Mutation testing of the core", "",
             "Written by `make mutate` (`summarizer/devtools/mutate.py`, mutmut "
             f"{latest.get('mutmut', '?')}, {latest.get('cores', '?')} cores). Survived counts the mutants "
             "tests ran against without failing plus those no selected test reaches; equivalent counts the "
             "survivors that only change the letter case of an SQL name (see the kinds below), which are left "
             "out of survived % and counted in raw %.", "",
             f"Written {latest['started']}, each group from its last run (the runs add up to "
             f"{latest['seconds'] / 60:.1f} min)"
             + ("" if latest["finished"] else " (STOPPED BY THE TIME CAP: counts are partial)") + ".", ""]
    if baseline:
        lines += [f"Before: {baseline['started']}, {baseline['seconds'] / 60:.1f} min, on {baseline['label']}.", ""]
    lines += ["| module | before: mutants | before: survived | after: mutants | after: killed | "
              "after: survived | after: no tests | after: timeout | after: equivalent | after: survived % | "
              "after: raw % |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    tot_b, tot_a = Counter(), Counter()
    for module, row in latest["modules"].items():
        b = (baseline or {}).get("modules", {}).get(module)
        tot_a.update(row)
        if b:
            tot_b.update(b)
        before = (f"{b['mutants']} | {b['survived'] + b['no tests']}" if b else "- | -")
        lines.append(f"| {module} | {before} | {row['mutants']} | {row['killed']} | {row['survived']} | "
                     f"{row['no tests']} | {row['timeout']} | {row.get('equivalent', 0)} | "
                     f"{100 * survived_share(row):.1f} | {100 * survived_share(row, raw=True):.1f} |")
    before = f"{tot_b['mutants']} | {tot_b['survived'] + tot_b['no tests']}" if baseline else "- | -"
    lines.append(f"| **core** | {before} | {tot_a['mutants']} | {tot_a['killed']} | {tot_a['survived']} | "
                 f"{tot_a['no tests']} | {tot_a['timeout']} | {tot_a['equivalent']} | "
                 f"{100 * survived_share(dict(tot_a)):.1f} | {100 * survived_share(dict(tot_a), raw=True):.1f} |")
    lines += ["", "Group timings (seconds): " + ", ".join(f"{k} {v:.0f}" for k, v in latest["groups"].items()), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every group (or those named), write the summary and the survivors list."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="project to mutate (default: this one)")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "mutation")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "mutation")
    ap.add_argument("--groups", default="", help="comma list (default: all)")
    ap.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--cap-minutes", type=float, default=45.0, help="time cap for the whole run")
    ap.add_argument("--baseline", metavar="LABEL", help="store this run as the baseline (the 'before' column)")
    ap.add_argument("--no-diffs", action="store_true", help="skip writing the survivors' diffs")
    ap.add_argument("--report-only", action="store_true", help="run nothing: rewrite the summary from the last run")
    args = ap.parse_args(argv)

    from importlib.metadata import version

    wanted = {g for g in args.groups.split(",") if g}
    groups = [g for g in GROUPS if not wanted or g.name in wanted]
    if args.report_only:
        wanted, groups = {"-"}, []
    deadline = time.monotonic() + args.cap_minutes * 60
    started = time.strftime("%Y-%m-%d %H:%M")
    latest: dict = {"started": started, "mutmut": version("mutmut"), "cores": args.max_children,
                    "modules": {}, "groups": {}, "finished": True, "seconds": 0.0}
    previous = args.work / "latest.json"
    if wanted and previous.exists() and not args.baseline:
        # A rerun of some groups keeps the other groups' last counts, so the summary
        # stays whole; the seconds then add up the runs that made it.
        old = json.loads(previous.read_text("utf-8"))
        latest.update(modules=old["modules"], groups=old["groups"], seconds=old["seconds"], finished=old["finished"])
        for group in groups:
            latest["seconds"] -= old["groups"].get(group.name, 0.0)
    survivors: dict[str, list[str]] = {}
    diffs: dict[str, str] | None = None if args.no_diffs else {}
    for group in groups:
        left = deadline - time.monotonic()
        dest = prepare_group(group, args.root.resolve(), args.work.resolve())
        finished, secs = run_group(dest, args.max_children, max(left, 1))
        latest["finished"] &= finished
        latest["groups"][group.name] = secs
        latest["seconds"] += secs
        counts, names = collect(dest, group, diffs)
        latest["modules"].update(counts)
        survivors[group.name] = names
        print(f"{group.name}: {secs:.0f}s, " + ", ".join(
            f"{Path(m).name} {c['mutants']} tried {c['survived'] + c['no tests']} survived" for m, c in counts.items()),
            flush=True)
    if not args.baseline:
        # Every other group's counts come from its last run's results in its own copy
        # (build/mutation/<group>/mutants), told apart with the same rules as this run's.
        for group in GROUPS:
            if group.name not in survivors and (args.work / group.name / "mutants").exists():
                counts, survivors[group.name] = collect(args.work.resolve() / group.name, group, diffs)
                latest["modules"].update(counts)
        latest["modules"] = {m: latest["modules"][m] for g in GROUPS for m in g.modules if m in latest["modules"]}

    args.out.mkdir(parents=True, exist_ok=True)
    if args.baseline:
        latest["label"] = args.baseline
        (args.out / "baseline.json").write_text(json.dumps(latest, indent=2, ensure_ascii=False) + "\n", "utf-8")
        return 0
    base_path = args.out / "baseline.json"
    baseline = json.loads(base_path.read_text("utf-8")) if base_path.exists() else None
    if previous.exists() and wanted:
        # Another process may have run other groups meanwhile: keep their timings.
        now_there = json.loads(previous.read_text("utf-8"))["groups"]
        for name, secs in now_there.items():
            if name not in {g.name for g in groups} and latest["groups"].get(name) != secs:
                latest["seconds"] += secs - latest["groups"].get(name, 0.0)
                latest["groups"][name] = secs
    (args.out / "summary.md").write_text(render(latest, baseline), "utf-8")
    args.work.mkdir(parents=True, exist_ok=True)
    (args.work / "latest.json").write_text(json.dumps(latest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    if diffs is not None:
        names_sql = sql_names()
        parts = ["# Surviving mutants", ""]
        table = ["", "## Survivors by kind", "", "Each surviving mutant, with the kind of change that let it "
                 "survive (told from its diff; the diffs are in `build/mutation/survivors.md`).", ""]
        kinds: Counter[str] = Counter()
        rows = []
        for group in GROUPS:
            for name in survivors.get(group.name, []):
                diff = diffs[name]
                removed, added = diff_lines(diff)
                sql = names_sql if any(name.startswith(m[:-3].replace("/", ".") + ".") for m in SQL_MODULES) else None
                kind = kind_of(removed, added, sql)
                kinds[kind] += 1
                rows.append(f"| `{name.split('.', 1)[1]}` | {kind} | `{added[:70].replace('|', '/')}` |")
                parts += [f"## {name} ({kind})", "", "```diff", diff, "```", ""]
        (args.work / "survivors.md").write_text("\n".join(parts), "utf-8")
        table += ["| kind | why it survives | count |", "|---|---|---|"]
        for kind, why in KINDS:
            table.append(f"| {kind} | {why} | {kinds[kind]} |")
        table += ["", "| mutant | kind | mutated line |", "|---|---|---|", *rows, ""]
        with (args.out / "summary.md").open("a", encoding="utf-8") as f:
            f.write("\n".join(table))
    print(f"wrote {args.out / 'summary.md'}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
