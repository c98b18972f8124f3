"""Which files are Dockerfiles, one severity per Dockerfile problem, the hadolint/trivy fold, report order."""

from __future__ import annotations

import json
from collections.abc import Mapping

import attrs
import pytest

from pipeline.errors import ConfigError, ToolFailed
from pipeline.model import Category, Finding, Location, Severity, ToolRun, merge_findings, sort_key
from pipeline.tools import dockerfile_rules, hadolint, trivy
from pipeline.tools.dockerfile_rules import (
    EQUIVALENT,
    fold,
    hadolint_severity,
    is_dockerfile,
    is_skipped,
    select_dockerfiles,
)


@pytest.mark.parametrize(
    "path",
    [
        "Dockerfile",
        "Dockerfile.app",
        "docker/Dockerfile.db",
        "api.Dockerfile",
        "Containerfile",
        "Containerfile.dev",
        "x/y.Containerfile",
    ],
)
def test_dockerfile_names(path: str) -> None:
    assert is_dockerfile(path)


@pytest.mark.parametrize(
    "path",
    ["Dockerfile.dockerignore", "dockerfile", "Dockerfiles", "MyDockerfile", "docs/Dockerfile-notes.md", "README"],
)
def test_not_dockerfile_names(path: str) -> None:
    assert not is_dockerfile(path)


def test_skip_patterns_match_like_trivys_skip_dirs() -> None:
    assert is_skipped("vendor/lib/Dockerfile", ["vendor"])
    assert not is_skipped("a/vendor/Dockerfile", ["vendor"])  # trivy: "vendor" is the root's vendor only
    assert is_skipped("a/vendor/Dockerfile", ["**/vendor"])
    assert is_skipped("vendor/Dockerfile", ["**/vendor"])
    assert is_skipped("tests/fixtures/x/Dockerfile", ["tests/fixtures"])
    assert is_skipped("tests/fixtures/x/Dockerfile", ["tests/fixtures/**"])
    assert is_skipped("tests/fixtures/x/Dockerfile", ["./tests/*/x/"])
    assert not is_skipped("tests/fixtures/x/Dockerfile", ["tests/?/x"])
    assert is_skipped("old.Dockerfile", ["*.Dockerfile"])
    assert not is_skipped("docker/old.Dockerfile", ["*.Dockerfile"])  # * stays within one segment
    assert is_skipped("docker/old.Dockerfile", ["docker/[a-p]*"])
    assert not is_skipped("src/Dockerfile", ["vendor", "tests/fixtures", ""])
    assert not is_skipped("vendored/Dockerfile", ["vendor"])


def test_select_keeps_dockerfiles_outside_skip_plus_the_built_one_sorted() -> None:
    files = ["README.md", "./Dockerfile.db", "Dockerfile.app", "vendor/Dockerfile", "docker/w.Dockerfile"]
    assert select_dockerfiles(files, ["vendor"]) == ("Dockerfile.app", "Dockerfile.db", "docker/w.Dockerfile")
    assert select_dockerfiles(files, ["vendor", "docker"], always=["build/app.df"]) == (
        "Dockerfile.app",
        "Dockerfile.db",
        "build/app.df",
    )
    assert select_dockerfiles(["vendor/Dockerfile"], ["vendor"], always=["vendor/Dockerfile"]) == ("vendor/Dockerfile",)
    assert select_dockerfiles([], []) == ()
    assert select_dockerfiles(["Dockerfile.d/", "Dockerfile.d/Dockerfile"]) == ("Dockerfile.d/Dockerfile",)


def test_severity_of_hadolint_rules_follows_trivy_for_the_same_problem() -> None:
    assert hadolint_severity("DL3020", "error") is Severity.LOW  # ADD instead of COPY, like DS-0005
    assert hadolint_severity("DL3002", "warning") is Severity.HIGH  # root, like DS-0002
    assert hadolint_severity("DL4004", "error") is Severity.CRITICAL
    assert hadolint_severity("DL3026", "error") is Severity.HIGH
    assert hadolint_severity("DL3061", "error") is Severity.MEDIUM
    assert hadolint_severity("DL3008", "warning") is Severity.MEDIUM
    assert hadolint_severity("SC2086", "info") is Severity.LOW
    assert hadolint_severity("DL3048", "style") is Severity.INFO
    assert hadolint_severity("DL9999", "weird") is Severity.UNKNOWN


def test_equivalence_table_is_one_to_trivy_ids_and_consistent() -> None:
    for code, eq in EQUIVALENT.items():
        assert eq.hadolint == code and code.startswith("DL")
        assert eq.trivy and all(t.startswith("DS-") and len(t) == 7 for t in eq.trivy)
        assert eq.problem
    # one trivy check, one severity, whichever hadolint rule points at it
    sev: dict[str, set[Severity]] = {}
    for eq in EQUIVALENT.values():
        for t in eq.trivy:
            sev.setdefault(t, set()).add(eq.severity)
    assert all(len(s) == 1 for s in sev.values()), sev


def _h(code: str, path: str, line: int | None, level: str = "error") -> Finding:
    return Finding(
        category=Category.MISCONFIGURATION,
        rule_id=code,
        severity=hadolint_severity(code, level),
        message=f"{code} message",
        title=f"{code} message",
        tools=("hadolint",),
        locations=(Location(path, line),),
        help_uri=hadolint.help_uri(code),
    )


def _t(rule: str, path: str, line: int | None, severity: Severity) -> Finding:
    return Finding(
        category=Category.MISCONFIGURATION,
        rule_id=rule,
        severity=severity,
        message=f"{rule} says so",
        title=f"{rule} title",
        tools=("trivy",),
        locations=(Location(path, line, line),),
        help_uri=f"https://avd.aquasec.com/misconfig/{rule.lower()}",
    )


def test_fold_merges_the_same_problem_on_the_same_line_only() -> None:
    h = ToolRun(
        "hadolint",
        "",
        (
            _h("DL3020", "Dockerfile", 4),  # same line as DS-0005: merged
            _h("DL3002", "Dockerfile", 9, "warning"),  # DS-0002 without a line: stays
            _h("DL3020", "other/Dockerfile", 4),  # other file: stays
            _h("DL3008", "Dockerfile", 5, "warning"),  # no equivalent: stays
        ),
    )
    t = ToolRun(
        "trivy",
        "0.76.0",
        (_t("DS-0005", "Dockerfile", 4, Severity.LOW), _t("DS-0002", "Dockerfile", None, Severity.HIGH)),
    )
    h2, t2 = fold(h, t)
    assert {(f.rule_id, f.locations[0].path) for f in h2.findings} == {
        ("DL3002", "Dockerfile"),
        ("DL3020", "other/Dockerfile"),
        ("DL3008", "Dockerfile"),
    }
    assert h2.notes == (
        "1 finding merged with trivy's check of the same problem on the same line (DL3020=DS-0005); they are "
        "reported once, as trivy's, with both tools",
    )
    merged = next(f for f in t2.findings if f.rule_id == "DS-0005")
    assert merged.tools == ("hadolint", "trivy")
    assert merged.severity is Severity.LOW and merged.message == "DS-0005 says so"
    assert merged.tags == ("hadolint:DL3020",)
    assert merged.help_uri.startswith("https://avd.aquasec.com/")
    # nothing lost: every finding is either kept or inside a merged one
    everything = merge_findings([*h2.findings, *t2.findings])
    assert len(everything) == len(h.findings) + len(t.findings) - 1


def test_fold_does_not_depend_on_the_order_trivy_wrote_its_findings_in() -> None:
    # trivy reports DS-0002 twice on line 5 (its parser keeps the report's order): the same one takes hadolint's
    # DL3002 either way, so the merged title and message are the same
    h = ToolRun("hadolint", "", (_h("DL3002", "Dockerfile", 5),))
    loud = _t("DS-0002", "Dockerfile", 5, Severity.HIGH)
    quiet = attrs.evolve(_t("DS-0002", "Dockerfile", 5, Severity.HIGH), title="", message="another text")
    results = []
    for order in ((loud, quiet), (quiet, loud)):
        h2, t2 = fold(h, ToolRun("trivy", "0.76.0", order))
        results.append(merge_findings([*h2.findings, *t2.findings]))
    assert results[0] == results[1]
    assert [(f.tools, f.title) for f in results[0]] == [(("hadolint", "trivy"), "DS-0002 title")]


def test_fold_without_pairs_changes_nothing() -> None:
    h = ToolRun("hadolint", "", (_h("DL3008", "Dockerfile", 5, "warning"),))
    t = ToolRun("trivy", "0.76.0", (_t("DS-0026", "Dockerfile", None, Severity.LOW),))
    assert fold(h, t) == (h, t)


def test_dl3040_folds_into_either_dnf_check() -> None:
    h = ToolRun("hadolint", "", (_h("DL3040", "Dockerfile", 3, "warning"),))
    t = ToolRun("trivy", "", (_t("DS-0027", "Dockerfile", 3, Severity.HIGH),))
    h2, t2 = fold(h, t)
    assert not h2.findings and t2.findings[0].tools == ("hadolint", "trivy")
    assert dockerfile_rules.EQUIVALENT["DL3040"].trivy == ("DS-0019", "DS-0027")


def test_hadolint_rows_carry_the_message_as_title_and_lint_takes_several_files() -> None:
    report = json.dumps(
        [{"code": "DL3020", "level": "error", "message": "Use COPY instead of ADD", "file": "/src/a/Dockerfile",
          "line": 3, "column": 1}]
    )  # fmt: skip
    (f,) = hadolint.parse(report).findings
    assert f.title == "Use COPY instead of ADD" and f.severity is Severity.LOW
    assert f.locations[0].path == "a/Dockerfile"
    inv = hadolint.lint(["b/Dockerfile", "Dockerfile.app", "b/Dockerfile"])
    assert inv.argv[-2:] == ("Dockerfile.app", "b/Dockerfile")
    with pytest.raises(ConfigError, match="no Dockerfile"):
        hadolint.lint([])
    with pytest.raises(ConfigError, match="relative to the source tree"):
        hadolint.lint(["ok/Dockerfile", "../Dockerfile"])


def test_locations_sort_by_path_then_line_as_a_number() -> None:
    def at(line: int, path: str = "app.js") -> Finding:
        return Finding(Category.SAST, "r", Severity.HIGH, "m", ("semgrep",), (Location(path, line),))

    ordered = sorted([at(6304), at(707), at(80), at(1, "b.js"), at(99999, "a.js")], key=sort_key)
    assert [(f.locations[0].path, f.locations[0].start_line) for f in ordered] == [
        ("a.js", 99999),
        ("app.js", 80),
        ("app.js", 707),
        ("app.js", 6304),
        ("b.js", 1),
    ]


# ----------------------------------------------------------------------------------- trivy: checks, EOSL


def test_fs_scan_adds_the_bundled_checks_and_their_data() -> None:
    inv = trivy.fs_scan(db=trivy.DbOptions(), checks=trivy.CHECKS_DIR, check_data=trivy.CHECK_DATA_DIR)
    argv = list(inv.argv)
    assert argv[argv.index("--config-check") + 1] == trivy.CHECKS_DIR
    assert argv[argv.index("--check-namespaces") + 1] == "seaworthy"
    assert argv[argv.index("--config-data") + 1] == trivy.CHECK_DATA_DIR
    assert inv.mounts[trivy.CHECKS_DIR] == "trivy-checks" and inv.mounts[trivy.CHECK_DATA_DIR] == "trivy-check-data"
    plain = trivy.fs_scan(db=trivy.DbOptions())
    assert "--config-check" not in plain.argv and trivy.CHECKS_DIR not in plain.mounts
    with pytest.raises(ConfigError, match="need the misconfig scanner"):
        trivy.fs_scan(db=trivy.DbOptions(), scanners=("vuln",), checks=trivy.CHECKS_DIR)
    assert sorted(p.name for p in trivy.BUNDLED_CHECKS.glob("*.rego")) == [
        "sw_ds_001_npm_no_lockfile.rego",
        "sw_ds_002_node_dev_dependencies.rego",
        "sw_ds_003_copy_all_without_dockerignore.rego",
        "sw_ds_004_base_not_pinned_by_digest.rego",
        "sw_ds_005_remote_add.rego",
        "sw_ds_006_download_and_execute.rego",
    ]


def test_check_stderr_fails_on_a_rego_error_only() -> None:
    ok = '2026-12-01T02:33:04Z\tERROR\t[misconfig] Falling back to embedded checks\terr="cache does not exist"\n'
    trivy.check_stderr(ok)  # trivy's normal complaint about the checks bundle cache: not a check failure
    bad = ok + (
        '2026-12-01T02:36:20Z\tERROR\t[rego] Error occurred while applying rule from check\trule="deny" '
        'file_path="in/trivy-checks/x.rego" err="x.rego:17: eval_conflict_error: functions must not produce"\n'
    )
    with pytest.raises(ToolFailed, match=r"check failed, so the scan is incomplete: Error occurred while applying"):
        trivy.check_stderr(bad)


def _image_report(os_info: Mapping[str, object] | None) -> str:
    meta: dict[str, object] = {"ImageID": "sha256:" + "1" * 64}
    if os_info is not None:
        meta["OS"] = dict(os_info)
    return json.dumps(
        {"SchemaVersion": 2, "ArtifactType": "container_image", "ArtifactName": "/in/image.tar", "Metadata": meta,
         "Results": []}
    )  # fmt: skip


def test_end_of_life_base_os_is_a_finding() -> None:
    run = trivy.parse(_image_report({"Family": "debian", "Name": "10.13", "EOSL": True}), mode="image")
    (f,) = run.findings
    assert f.rule_id == "SW-IMG-EOSL" and f.category is Category.IMAGE_VULNERABILITY
    assert f.severity is Severity.HIGH and f.package is None
    assert f.locations[0].path == "image:debian 10.13"
    assert "end-of-life" in f.message and f.title == "End-of-life base OS (debian 10.13)"
    for info in ({"Family": "debian", "Name": "12.8"}, {"Family": "debian", "Name": "12.8", "EOSL": False}, None):
        assert trivy.parse(_image_report(info), mode="image").findings == ()
    # never from a source scan
    fs = json.loads(_image_report({"Family": "debian", "Name": "10.13", "EOSL": True}))
    fs["ArtifactType"] = "filesystem"
    assert trivy.parse(json.dumps(fs), mode="fs").findings == ()
