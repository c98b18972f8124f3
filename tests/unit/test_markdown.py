"""Markdown summary: verdict first, counts, top findings, notes; tool text cannot break out of its cell."""

from __future__ import annotations

import random
import re

from markdown_it import MarkdownIt

from pipeline.formats.markdown import md_code, md_text, render_markdown
from pipeline.model import Category, Decision, Location, Package, Reason, Severity, ToolRun, Verdict
from tests.unit.report_factories import finding, realistic

GFM = MarkdownIt("commonmark").enable("table").enable("strikethrough")


def html(md: str) -> str:
    return GFM.render(md)


def test_verdict_comes_first_with_every_denial() -> None:
    runs, findings, verdict = realistic()
    md = render_markdown(runs, findings, verdict)
    lines = md.splitlines()
    assert lines[0] == "## Seaworthy: ❌ failed"
    assert "Policy `rego`: 2 denials, 1 warning." in lines
    denied = md.index("### Denied")
    assert denied < md.index("### Warnings") < md.index("### Findings") < md.index("### Top")
    assert md.index("### Top") < md.index("### Tools") < md.index("### Notes")
    assert "- `secrets` (2 findings): 2 secrets in the source tree" in lines
    assert "  - Remedy: Remove the secrets and rotate them." in lines
    assert "- `vulnerabilities.critical` (1 finding): 1 CRITICAL vulnerability with a fix" in lines
    assert "- `base-image.pinned`: The base image is not pinned by digest" in lines


def test_passing_verdict_and_no_findings() -> None:
    md = render_markdown([], [], Verdict(passed=True))
    assert md.startswith("## Seaworthy: ✅ passed\n")
    assert "No findings." in md
    assert "### Top" not in md and "### Notes" not in md
    assert md.endswith("\n") and not md.endswith("\n\n")


def test_category_by_severity_table() -> None:
    runs, findings, verdict = realistic()
    md = render_markdown(runs, findings, verdict)
    assert "| Category | CRITICAL | HIGH | MEDIUM | LOW | INFO | UNKNOWN | Total |" in md
    assert "| secret | 2 | 0 | 0 | 0 | 0 | 0 | 2 |" in md
    assert "| dependency | 1 | 1 | 1 | 0 | 0 | 0 | 3 |" in md
    assert f"| **total** | 3 | 3 | 3 | 2 | 1 | 1 | {len(findings)} |" in md
    # only severities that occur get a column
    only_low = render_markdown([], [finding(severity=Severity.LOW)], Verdict(passed=True))
    assert "| Category | LOW | Total |" in only_low
    assert "| sast | 1 | 1 |" in only_low


def test_top_n_findings_with_place_package_and_fix() -> None:
    runs, findings, verdict = realistic()
    md = render_markdown(runs, findings, verdict, top=3)
    assert "### Top 3 findings" in md
    rows = [line for line in md.splitlines() if line.startswith("| CRITICAL") or line.startswith("| HIGH")]
    assert len(rows) == 3
    assert rows[0].startswith("| CRITICAL | dependency | `CVE-2020-1747`")
    assert "| `requirements.txt` | `pyyaml 5.3` | `5.3.1` | trivy |" in rows[0]
    assert f"… and {len(findings) - 3} more" in md
    md0 = render_markdown(runs, findings, verdict, top=0)
    assert "### Top" not in md0
    no_fix = render_markdown([], [finding(package=Package("libc6", "2.36", "deb"))], Verdict(passed=True))
    assert "| `libc6 2.36` | no fix |" in no_fix


def test_notes_gather_verdict_extra_and_tool_notes() -> None:
    runs, findings, verdict = realistic()
    md = render_markdown(runs, findings, verdict, notes=("SARIF: left out 2 results of trivy (2 LOW)",))
    notes = md[md.index("### Notes") :].splitlines()[2:]
    assert notes == [
        "- exception EX-1 \\(CVE-2000-0001\\) matched nothing".replace("\\(", "(").replace("\\)", ")"),
        "- SARIF: left out 2 results of trivy (2 LOW)",
        "- trivy: skipped 2 files larger than 10 MB",
    ]


def test_tool_text_cannot_break_the_table_render_html_or_mention() -> None:
    evil = "a | b\n| c | d |\n<img src=x onerror=alert(1)> [click](http://evil) **bold** @admin `tick` $x$ &amp;"
    f = finding(
        rule_id="rule|with`pipe",
        message=evil,
        title=evil,
        locations=(Location("dir|x/f`le.py", 3),),
        package=Package("p|kg", "1|0", "pypi", "", "2|0"),
    )
    verdict = Verdict(passed=False, denials=(Reason("deny|x", Decision.DENY, evil, evil, (f.fingerprint,)),))
    md = render_markdown([ToolRun("t|ool", "v|1", (f,), notes=(evil,))], [f], verdict, notes=(evil,))
    out = html(md)
    assert "<img" not in out and "<a " not in out and "<strong>bold" not in out and "<code>tick" not in out
    assert "&amp;amp;" in out, "an entity in tool text shows as text"
    assert "\\@admin" in md
    # every table row has exactly the header's number of cells
    for table in re.findall(r"<table>.*?</table>", out, flags=re.S):
        header = len(re.findall(r"<th[ >]", table.split("</thead>")[0]))
        for row in re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1], flags=re.S):
            assert len(re.findall(r"<td", row)) == header, row
    assert "<code>rule|with`pipe</code>" in out
    assert "<code>dir|x/f`le.py:3</code>" in out


def test_md_helpers() -> None:
    assert md_text("x\n\ny\tz") == "x y z"
    assert md_text("*a*") == "\\*a\\*"
    assert md_text("a" * 500).endswith("…") and len(md_text("a" * 500)) == 300
    assert md_code("") == ""
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x") == "`` `x ``"
    assert md_code("a|b") == "`a\\|b`"


def test_never_prints_more_than_findings_carry() -> None:
    # a secret finding carries the rule and the place, never the value: the summary shows just that
    f = finding(
        Category.SECRET,
        "aws-access-token",
        Severity.CRITICAL,
        tools=("gitleaks",),
        locations=(Location("config.py", 3),),
        message="AWS access token detected",
    )
    md = render_markdown([], [f], Verdict(passed=True))
    assert "AKIA" not in md
    assert "`config.py:3`" in md


def test_deterministic_across_orders() -> None:
    runs, findings, verdict = realistic()
    first = render_markdown(runs, findings, verdict)
    rng = random.Random(5)
    shuffled_runs, shuffled = list(runs), list(findings)
    rng.shuffle(shuffled_runs)
    rng.shuffle(shuffled)
    assert render_markdown(shuffled_runs, shuffled, verdict) == first
