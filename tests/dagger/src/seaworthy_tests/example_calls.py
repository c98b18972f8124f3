"""End-to-end calls of the example user module (examples/user-module, `my-pipeline`).

The example builds its image without a Dockerfile and composes Seaworthy's steps through `pipeline.api`; it is
a dependency of this test module (tests/dagger/dagger.json), called through its generated binding
(`dag.my_pipeline()`) as any pipeline would. Nothing is mocked. It must pass the clean example app (its own
build is non-root, labelled, from a tagged base) and deny the bad project like the root module does.

`example_cases(app, bad)` returns the cases by name; main.py's `all` runs them with its own.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import dagger
from dagger import dag

TODAY = "2026-11-27"
REPORTS = ("seaworthy.sarif", "junit.xml", "summary.md", "report.json", "gate-input.json", "verdict.json")


class ExampleCaseFailed(Exception):
    pass


def check(cond: bool, message: str) -> None:
    if not cond:
        raise ExampleCaseFailed(message)


async def example_module_checks_its_own_build_of_the_example_app(app: dagger.Directory) -> str:
    """check on the example app: its own build passes the one gate over source and image, the reports and the
    SBOM are there, and the gate input names the image that was built (the digest the scan saw)."""
    checked = dag.my_pipeline().check(app, source_repository="https://example.invalid/e2e", revision="e2e")
    verdict = json.loads(await checked.verdict())
    check(await checked.passed() is True and verdict["passed"] is True, f"the example app was denied: {verdict}")
    names = set(await checked.reports().entries())
    check(set(REPORTS) <= names, f"reports: {sorted(names)}")
    check({"sbom.cdx.json", "sbom.spdx.json"} <= set(await checked.sbom().entries()), "no SBOM pair")
    doc = json.loads(await checked.reports().file("gate-input.json").contents())
    (image,) = doc["images"]
    check(image["runs_as_root"] is False and image["base_pin"] == "tag", f"image facts: {image}")
    check(list(doc["build"]["config_digests"].values()) == [image["config_digest"]], "scanned image != built one")
    user = (await checked.container().with_exec(["id", "-u"]).stdout()).strip()
    check(user == "10001", f"the built image runs as {user}")
    return image["config_digest"]


async def example_module_denies_the_bad_project(bad: dagger.Directory) -> str:
    """check on the bad project: denied (strict fails the call with the reasons; --strict=false returns them).

    Its requirements.txt is left out: the example's build would pip-install 2018 packages on Python 3.13; the
    secrets, the SAST findings and the Dockerfile still fail the gate."""
    bad = bad.without_file("requirements.txt")
    relaxed = dag.my_pipeline().check(bad, strict=False, today=TODAY)
    check(await relaxed.passed() is False, "the bad project passed the example module's gate")
    denials = json.loads(await relaxed.verdict())["denials"]
    check(bool(denials), "a failed verdict without denials")
    try:
        await dag.my_pipeline().check(bad, today=TODAY).passed()
    except dagger.QueryError as exc:
        check("the policy gate denied the image" in str(exc), f"the failure does not say why: {str(exc)[:2000]}")
    else:
        raise ExampleCaseFailed("a strict check of the bad project succeeded")
    return f"{len(denials)} denials"


def example_cases(app: dagger.Directory, bad: dagger.Directory) -> dict[str, Callable[[], Awaitable[str]]]:
    """Every examples/user-module case by name, for main.py's `all`."""
    return {
        "example_check_app": lambda: example_module_checks_its_own_build_of_the_example_app(app),
        "example_denies_bad": lambda: example_module_denies_the_bad_project(bad),
    }
