"""The reviewer's report: every table and figure of both papers, reproduced beside published, with provenance.

    build_report("default")   # results/default/REPORT.md, REPORT.html, report.json; and results/REPORT.md, .html

Built from what a run left in `results/<profile>/`: `manifest.json` (parameters, times, memory, code and package
versions, output hashes; `forensiclib.runner.manifest`) and each notebook's `session.json` (the data it ran on, its figures
and tables, its numbers beside the paper's, its claims with verdicts; `forensiclib.runner.session`). Nothing in the report
is typed by hand: every number comes from those files. `report.json` holds the same content for programs
(schema: `forensiclib/schemas/report.schema.json`).

Sections: a summary per notebook (paper section, data, wall time, peak memory, its claims' verdicts, executed
notebook); the checklist of the papers' claims with their verdict on this run (held, not held, inconclusive, not
meaningful at this size; `forensiclib.stats`) and the evidence that decided it; every number compared with the
paper's, with its interval and test size, and the difference in points; each notebook's tables (inline) and
figures; the provenance of the run. `check_complete` lists the numbers without an interval or test size and the
claims decided without evidence (records from notebooks that do not pass them yet read "no interval").
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..cache import write_text_atomic
from ..paths import project_root
from ..stats import VERDICTS
from .session import INTERVAL_FIELDS

__all__ = ["build_report", "collect_report", "render_markdown", "render_html", "validate", "check_complete"]

REPORT_VERSION = 3
#: Every verdict a claim can carry in the report: the evidence's four, and "not tested".
CLAIM_VERDICTS = (*VERDICTS, "not tested")
_PAPERS = {"Amerini": "paper 1 (Amerini et al. 2017)", "Mayer": "paper 2 (Mayer, Bayar, Stamm 2018)"}


def _notebook_title(notebook: str, root: Path) -> str:
    """The first markdown heading of `notebooks/<notebook>.ipynb` (its name if there is none)."""
    try:
        cells = json.loads((root / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return notebook
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            match = re.search(r"^#\s+(.+)$", "".join(cell.get("source", [])), re.M)
            if match:
                return match.group(1).strip()
    return notebook


def _paper_of(title: str) -> str:
    return next((paper for key, paper in _PAPERS.items() if key in title), "neither paper")


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _comparison(record: dict) -> dict:
    """A comparison with every field, None where a record (an older one, or a plain number) lacks it."""
    fields = ("table", "item", "ours", "paper", *INTERVAL_FIELDS)
    return {key: record.get(key) for key in fields}


def _claim(record: dict) -> dict:
    """A claim with every field; a record that has only `holds` gets the verdict it stands for, without evidence."""
    verdict = record.get("verdict") or {True: "held", False: "not held"}.get(record.get("holds"), "not tested")
    return {"claim": record.get("claim", ""), "verdict": verdict, "holds": {"held": True, "not held": False}.get(verdict),
            "detail": record.get("detail", ""), "evidence": record.get("evidence"), "estimate": record.get("estimate")}


def _count(claims: list[dict]) -> dict:
    return {name: sum(c["verdict"] == name for c in claims) for name in CLAIM_VERDICTS}


def collect_report(profile: str, *, results_root: Path | None = None, root: Path | None = None) -> dict:
    """The report's content as one JSON-ready dict (what `report.json` holds)."""
    root = root or project_root()
    out_dir = Path(results_root or root / "results") / profile
    manifest = _read_json(out_dir / "manifest.json")
    notebooks = []
    for name, entry in (manifest.get("notebooks") or {}).items():
        record = _read_json(out_dir / name / "session.json")
        title = _notebook_title(name, root)
        data = record.get("data") or []
        claims = [_claim(c) for c in record.get("claims") or []]
        notebooks.append({
            "notebook": name,
            "title": title,
            "paper": _paper_of(title),
            "executed": f"{name}.ipynb",
            "simulated": any(d["simulated"] for d in data) if data else None,
            "data": [d["description"] for d in data],
            "wall_time_s": entry.get("wall_time_s"),
            "peak_rss_mb": entry.get("peak_rss_mb"),
            "finished": entry.get("finished"),
            "outputs": [{**o, "file": f"{name}/{o['file']}"} for o in record.get("outputs") or []],
            "comparisons": [_comparison(c) for c in record.get("comparisons") or []],
            "claims": claims,
            "claims_held": sum(c["verdict"] == "held" for c in claims),
            "verdicts": _count(claims),
            "training": list(record.get("training") or []),
        })  # fmt: skip
    ran = {b["notebook"] for b in notebooks}
    not_run = [{"notebook": name, "title": (title := _notebook_title(name, root)), "paper": _paper_of(title),
                "reason": reason} for name, reason in _not_run(profile, root).items() if name not in ran]  # fmt: skip
    codes = {json.dumps(e.get("code"), sort_keys=True) for e in (manifest.get("notebooks") or {}).values()}
    environments = [e.get("environment") for e in (manifest.get("notebooks") or {}).values() if e.get("environment")]
    return {
        "version": REPORT_VERSION,
        "profile": manifest.get("profile") or {"name": profile},
        # the last notebook's finishing time, so that rebuilding an unchanged run gives the same bytes
        "generated": max((b["finished"] for b in notebooks if b["finished"]), default=None),
        "total_wall_time_s": manifest.get("total_wall_time_s"),
        "max_peak_rss_mb": manifest.get("max_peak_rss_mb"),
        "code": [json.loads(c) for c in sorted(codes)],
        "environment": environments[-1] if environments else None,
        "verdicts": {name: sum(b["verdicts"][name] for b in notebooks) for name in CLAIM_VERDICTS},
        "training": {"networks": sum(len(b["training"]) for b in notebooks),
                     "plateaued": sum(t["plateaued"] for b in notebooks for t in b["training"]),
                     "capped": sum(not t["plateaued"] and not t.get("fixed") for b in notebooks for t in b["training"]),
                     "did not learn": sum(t.get("learned") is False for b in notebooks for t in b["training"])},
        "notebooks": notebooks,
        "not_run": not_run,
    }


def _not_run(profile: str, root: Path) -> dict[str, str]:
    """The notebooks `params/<profile>.yaml` leaves out of a full run, with its reasons (none for a profile without
    a file, such as the seed sets of `benchmarks/verdict_stability.py`)."""
    from ..errors import ParameterError
    from .profiles import load_profile

    try:
        return dict(load_profile(profile, root).not_run)
    except (ParameterError, OSError):
        return {}


def check_complete(report: dict) -> list[str]:
    """What in a report (`collect_report`'s dict, or `report.json` read back) lacks its evidence.

    Every number of ours must carry a test size and an interval, and every claim one of the verdicts decided by
    evidence (`stats.VERDICTS`) with its evidence line. Returns one line per gap (empty when complete), e.g.
    `"04_quick: Table X / a: no interval, no test size"`.
    """
    gaps = []
    for book in report.get("notebooks") or []:
        for c in book.get("comparisons") or []:
            if c.get("ours") is None:
                continue
            missing = [what for what, ok in (("no interval", c.get("low") is not None and c.get("high") is not None),
                                             ("no test size", c.get("n") is not None)) if not ok]  # fmt: skip
            if missing:
                gaps.append(f"{book['notebook']}: {c.get('table')} / {c.get('item')}: {', '.join(missing)}")
        for c in book.get("claims") or []:
            claim = _claim(c)
            if claim["verdict"] not in VERDICTS:
                gaps.append(f"{book['notebook']}: claim {claim['claim']!r}: {claim['verdict']}")
            elif not claim["evidence"]:
                gaps.append(f"{book['notebook']}: claim {claim['claim']!r}: {claim['verdict']} without evidence")
    return gaps


def _pct(value) -> str:
    return "" if value is None else f"{value:.2f}"


def _with_interval(c: dict) -> str:
    """`71.38 [65.20, 77.00]`, or `50.00 (no interval)` for a plain number."""
    if c["ours"] is None:
        return ""
    if c["low"] is None or c["high"] is None:
        return f"{c['ours']:.2f} (no interval)"
    level = "" if c["confidence"] in (None, 0.95) else f" ({c['confidence']:.0%})"
    return f"{c['ours']:.2f} [{c['low']:.2f}, {c['high']:.2f}]{level}"


def _test_size(c: dict) -> str:
    if c["ours"] is None:
        return ""
    if c["n"] is None:
        return "not given"
    seeds = c.get("n_seeds")
    return (f"{c['n']} {c['n_label']}" + (f", {c['n_units']} {c['units_label']}" if c["n_units"] is not None else "")
            + ("" if seeds is None else f", {seeds} seed" + ("s" if seeds != 1 else "")))


def _verdict_counts(counts: dict) -> str:
    """`2 held, 1 not held, 3 inconclusive` (verdicts with none left out)."""
    return ", ".join(f"{n} {name}" for name, n in counts.items() if n) or "none checked"


def _verdict_cell(c: dict) -> str:
    name = "**not held**" if c["verdict"] == "not held" else c["verdict"]
    return name + (" (no evidence)" if not c["evidence"] and c["verdict"] != "not tested" else "")


def _minutes(seconds) -> str:
    if seconds is None:
        return "?"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _did_not_learn(totals: dict) -> str:
    count = totals.get("did not learn")
    if count is None:
        return ""
    return (f"{count} did not learn (their validation accuracy never left its chance interval); a claim that rests "
            "on such a network is not meaningful at this size. ")


def _training_lines(report: dict) -> list[str]:
    """The section listing how every network of the run ended its training (`Session.record_training`)."""
    totals = report.get("training") or {}
    if not totals.get("networks"):
        return []
    lines = ["## How each network's training ended", "",
             f"{totals['networks']} networks behind this run's numbers: {totals['plateaued']} stopped on a plateau of "
             f"their validation loss (early stopping, best weights kept), {totals['capped']} hit their epoch cap and "
             "may still have been learning; the numbers a capped network gave are marked *(capped)* where they "
             "appear. " + _did_not_learn(totals) + "A network a notebook reuses from another's cache is listed under "
             "each.", "",
             "| notebook | network | epochs run | best epoch | cap | ended |", "|---|---|---|---|---|---|"]  # fmt: skip
    for b in report["notebooks"]:
        for t in b.get("training") or []:
            ended = ("**DID NOT LEARN**" if t.get("learned") is False else "plateau" if t["plateaued"] else
                     "fixed schedule" if t.get("fixed") else "**CAP**")  # fmt: skip
            lines.append(f"| {b['notebook']} | {t['network']} | {t['epochs_run']} | {t['best_epoch'] or '-'} | "
                         f"{t['max_epochs']} | {ended} |")  # fmt: skip
    return lines + [""]


def render_markdown(report: dict, *, tables_dir: Path | None = None, link_prefix: str = "") -> str:
    """REPORT.md from `collect_report`'s dict; tables are read from `tables_dir` (the profile's results folder) and
    inlined, or linked when it is None; links are relative to the folder the file is written to."""
    profile = report["profile"].get("name", "?")
    books = report["notebooks"]
    simulated = [b for b in books if b["simulated"]]
    lines = [f"# Reproduction report: profile `{profile}`", ""]
    lines += [f"Run finished {report['generated']}; built by `forensiclib.runner.report` from `results/{profile}/manifest.json` and "
              "the notebooks' records; every number below was computed by the run, none was typed by hand.", ""]  # fmt: skip
    if simulated:
        lines += [f"**{len(simulated)} of {len(books)} notebooks ran on SIMULATED data** (the suite's simulators, not the "
                  "papers' datasets). Their numbers stand beside the published ones for reference; they are not a "
                  "reproduction of the papers' numbers on the papers' data.", ""]  # fmt: skip
    lines += [f"Total wall time of the notebooks' last runs: {_minutes(report['total_wall_time_s'])}; largest process: "
              f"{report['max_peak_rss_mb'] or '?'} MB. The executed notebooks linked below are written by "
              "`make reproduce` and are not kept in git; the figures and tables are.", ""]  # fmt: skip

    lines += ["## Summary", "", "| notebook | paper | data | wall time | peak memory | claims | executed notebook |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for b in books:
        data = "simulated" if b["simulated"] else ("real" if b["simulated"] is False else "?")
        held = _verdict_counts(b["verdicts"])
        peak = f"{b['peak_rss_mb']:.0f} MB" if b["peak_rss_mb"] is not None else "?"
        lines.append(f"| [{b['notebook']}](#{b['notebook']}) | {b['paper']} | {data} | "
                     f"{_minutes(b['wall_time_s'])} | {peak} | {held} | [{b['executed']}]({link_prefix}{b['executed']}) |")  # fmt: skip

    left_out = report.get("not_run") or []
    if left_out:
        lines += ["", f"## Not run by this profile ({len(left_out)} notebooks)", "",
                  "Their claims are not checked by this run; each line says why and how to run it.", "",
                  "| notebooks | paper | why not, and how to run it |", "|---|---|---|"]  # fmt: skip
        grouped: dict[str, list[dict]] = {}  # notebooks left out for one reason share a row
        for b in left_out:
            grouped.setdefault(b["reason"], []).append(b)
        for reason, group in grouped.items():
            papers = ", ".join(dict.fromkeys(b["paper"] for b in group))
            lines.append(f"| {', '.join(b['notebook'] for b in group)} | {papers} | {reason} |")

    lines += ["", "## The papers' claims, checked on this run", "",
              "A claim is held or not held only when the 95% interval of the difference it is about excludes the "
              "boundary; otherwise it is inconclusive. A comparison in which a number reaches its chance level within "
              "its interval is not meaningful at this size.", "",
              "| paper | claim | on this run | evidence | detail | notebook |", "|---|---|---|---|---|---|"]  # fmt: skip
    for b in books:
        for c in b["claims"]:
            lines.append(f"| {b['paper']} | {c['claim']} | {_verdict_cell(c)} | {c['evidence'] or ''} | {c['detail']} "
                         f"| {b['notebook']} |")  # fmt: skip
    n_claims = sum(len(b["claims"]) for b in books)
    unsupported = sum(1 for b in books for c in b["claims"] if not c["evidence"] and c["verdict"] != "not tested")
    lines += ["", f"Of {n_claims} claims on this run: {_verdict_counts(report['verdicts'])}"
              + (f"; {unsupported} decided without evidence (no interval)." if unsupported else "."), ""]  # fmt: skip

    lines += _training_lines(report)
    lines += ["## Reproduced beside published", "",
              "Percent; ours with its 95% interval and the test size behind it; the difference is ours minus the "
              "paper's, in percentage points.", "",
              "| table or figure | what | paper | ours [95% interval] | n | difference | notebook |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for b in books:
        for c in b["comparisons"]:
            diff = "" if c["ours"] is None or c["paper"] is None else f"{c['ours'] - c['paper']:+.2f}"
            lines.append(f"| {c['table']} | {c['item']} | {_pct(c['paper'])} | {_with_interval(c)} | {_test_size(c)} "
                         f"| {diff} | {b['notebook']} |")  # fmt: skip
    gaps = check_complete(report)
    if gaps:
        lines += ["", f"{len(gaps)} numbers or claims of this run lack an interval, a test size or evidence "
                  "(`report.check_complete`)."]  # fmt: skip
    lines.append("")

    lines += ["## The notebooks", ""]
    for b in books:
        lines += [f"### {b['notebook']}", "", f"*{b['title']}*", ""]
        for d in b["data"]:
            lines.append(f"- Data{' (SIMULATED)' if b['simulated'] else ''}: {d}")
        lines += [f"- Executed notebook: [{b['executed']}]({link_prefix}{b['executed']}); wall time "
                  f"{_minutes(b['wall_time_s'])}, finished {b['finished']}", ""]  # fmt: skip
        for o in b["outputs"]:
            if o["kind"] == "figure":
                lines += [f"**{o['title']}**", "", f"![{o['title']}]({link_prefix}{o['file']})", ""]
            elif o["kind"] == "table":
                lines += [f"**{o['title']}**", "", _read_text(tables_dir and tables_dir / o["file"]) or f"[{o['file']}]({link_prefix}{o['file']})", ""]
        if b["claims"]:
            from .session import claims_markdown

            lines += ["**Claims on this run**", "", claims_markdown(b["claims"]), ""]

    lines += ["## Provenance", ""]
    for code in report["code"]:
        if code and code.get("commit"):
            lines.append(f"- Code: git commit `{code['commit']}`" + (", with uncommitted changes" if code.get("dirty") else ", clean tree"))
        else:
            lines.append("- Code: not a git checkout")
    env = report["environment"] or {}
    if env:
        lines.append(f"- Python {env.get('python')} on {env.get('platform')}, {env.get('cpu_count')} CPUs")
        lines.append("- Packages: " + ", ".join(f"{k} {v}" for k, v in env.get("packages", {}).items()))
    lines.append(f"- Profile `{profile}`: seed {report['profile'].get('seed')}, time limit per notebook "
                 f"{report['profile'].get('time_limit_s')} s; every notebook's parameters, seeds, determinism settings "
                 f"and output hashes are in [manifest.json]({link_prefix}manifest.json)")  # fmt: skip
    return "\n".join(lines) + "\n"


def _read_text(path) -> str:
    try:
        return Path(path).read_text().strip() if path else ""
    except OSError:
        return ""


def render_html(markdown_text: str, title: str) -> str:
    """A standalone HTML page of the report (mistune, tables enabled)."""
    import mistune

    body = mistune.create_markdown(plugins=["table"], escape=False)(markdown_text)
    style = ("body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.45}"
             "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}"
             "img{max-width:100%}code{background:#f4f4f4}")  # fmt: skip
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title><style>{style}</style></head>"
            f"<body>\n{body}</body></html>\n")  # fmt: skip


def validate(report: dict, *, complete: bool = False) -> None:
    """Check a report dict against `schemas/report.schema.json` (raises `jsonschema.ValidationError`).

    With `complete`, also require every number to carry its interval and test size and every claim a verdict
    with its evidence (`check_complete`); raises `ValueError` listing what lacks them.
    """
    import jsonschema

    schema = json.loads((Path(__file__).parent / "schemas" / "report.schema.json").read_text())
    jsonschema.validate(report, schema)
    gaps = check_complete(report) if complete else []
    if gaps:
        shown = "; ".join(gaps[:10]) + (f"; and {len(gaps) - 10} more" if len(gaps) > 10 else "")
        raise ValueError(f"Expected every number with an interval and a test size, and every claim decided by "
                         f"evidence. Received {len(gaps)} without: {shown}")  # fmt: skip


def build_report(profile: str = "default", *, results_root: str | Path | None = None, root: Path | None = None) -> list[Path]:
    """Write `REPORT.md`, `REPORT.html` and `report.json` of a profile's run.

    The report goes to `<results>/<profile>/`, except the default profile's, which goes to `<results>/` (the one
    committed to the repository, linking into `default/`). For the default profile in the project's own results
    folder, the README's headline is rewritten from the report (`readme_headline`).

    Returns the paths written.
    """
    root = root or project_root()
    own_results = results_root is None
    results_root = Path(results_root or root / "results")
    out_dir = results_root / profile
    report = collect_report(profile, results_root=results_root, root=root)
    validate(report)
    title = f"Reproduction report: {profile}"
    folder, prefix = (results_root, f"{profile}/") if profile == "default" else (out_dir, "")
    text = render_markdown(report, tables_dir=out_dir, link_prefix=prefix)
    written = [write_text_atomic(folder / "REPORT.md", text),
               write_text_atomic(folder / "REPORT.html", render_html(text, title)),
               write_text_atomic(out_dir / "report.json", json.dumps(report, indent=1) + "\n")]  # fmt: skip
    readme = root / "README.md"
    if profile == "default" and own_results and readme.is_file() and _HEADLINE.search(readme.read_text()):
        updated = _HEADLINE.sub(lambda m: m[1] + readme_headline(report) + m[3], readme.read_text(), count=1)
        if updated != readme.read_text():
            written.append(write_text_atomic(readme, updated))
    return written


_HEADLINE = re.compile(r"(<!-- headline:[^>]*-->\n)(.*?)(<!-- /headline -->)", re.S)


def readme_headline(report: dict | str | Path) -> str:
    """The README's headline: the verdict counts of a run and what it ran on, from its `report.json` (or dict).

    Read from the report, never typed, so the README cannot claim more than the run found.
    """
    if not isinstance(report, dict):
        report = json.loads(Path(report).read_text())
    claims = [_claim(c) for b in report.get("notebooks", []) for c in b.get("claims", [])]
    counts = _count(claims)
    books = report.get("notebooks", [])
    data = f"{sum(bool(b.get('simulated')) for b in books)} of its {len(books)} notebooks on **simulated** data"
    unproven = sum(c["verdict"] in ("held", "not held") and not c.get("evidence") for c in claims)
    code = report.get("code") or [{}]
    commit = ", ".join(f"`{((c or {}).get('commit') or '?')[:7]}`"
                       + (" (uncommitted changes)" if (c or {}).get("dirty") else "") for c in code)  # fmt: skip
    environment = report.get("environment") or {}
    wall = report.get("total_wall_time_s")
    when = (report.get("generated") or "")[:10]
    ran = f"{wall / 60:.1f} min on {environment.get('cpu_count', '?')} CPU cores" if wall else "wall time unknown"
    decided = [f"**{counts[v]} {v}**" for v in CLAIM_VERDICTS if counts.get(v)]
    left_out = [b["notebook"] for b in report.get("not_run") or []]
    skipped = (f" It does not run {len(left_out)} notebooks ({', '.join(left_out)}): the report says why and how to "
               "run them." if left_out else "")  # fmt: skip
    return (
        f"The last committed run of `make reproduce` ({report.get('profile', {}).get('name', '?')} profile, {when}, "
        f"commit {commit}, {ran}; {data}) checked {len(claims)} of the papers' claims: " + ", ".join(decided) + "."
        + (f" {unproven} of these verdicts were decided on point estimates alone, without an interval." if unproven
           else " A claim is held or not held only when the 95% interval of the difference it is about decides it.")
        + skipped
        + " The numbers, intervals, test sizes and evidence are in [`results/REPORT.md`](results/REPORT.md). Results"
        " on simulated data test the methods, not the papers' numbers.\n"
    )
