"""End-to-end tests of the Seaworthy module, run by CI systems that have a Dagger engine.

    dagger call -m tests/dagger all

Each case calls the real module (`dag.seaworthy()`), which runs the real tool images. Nothing is mocked.
These tests cannot run on machines without an engine; the engine-free suite (tests/engine_free) checks
the query chains these calls build.
"""

from __future__ import annotations

import json
from typing import Annotated

import anyio
import dagger
from dagger import DefaultPath, dag, function, object_type


class Failed(Exception):
    pass


def check(cond: bool, message: str) -> None:
    if not cond:
        raise Failed(message)


@object_type
class SeaworthyTests:
    """End-to-end cases for Seaworthy."""

    @function
    async def ship_example_publishes_signs_and_verifies(self) -> str:
        """`ship` with no flags: the bundled example passes the gate, is pushed to the ephemeral registry,
        signed with a throwaway key, attested and verified."""
        reports = dag.seaworthy().ship(today="2026-11-27")
        published = json.loads(await reports.file("published.json").contents())
        check("@sha256:" in published["ref"], f"not published by digest: {published}")
        verification = json.loads(await reports.file("verification.json").contents())
        check(verification["passed"] is True, f"verification failed: {verification}")
        names = {c["name"] for c in verification["checks"]}
        for needed in ("signature", "attestation:sbom", "attestation:provenance", "attestation:verdict"):
            check(needed in names, f"missing check {needed}: {sorted(names)}")
        report = json.loads(await reports.file("report.json").contents())
        check(report["verdict"]["passed"] is True, "the example must pass the gate")
        sarif = json.loads(await reports.file("seaworthy.sarif").contents())
        check(sarif["version"] == "2.1.0", "SARIF version")
        return published["ref"]

    @function
    async def ship_bad_project_fails_gate_and_publishes_nothing(
        self,
        bad: Annotated[dagger.Directory, DefaultPath("../fixtures/bad-project")],
    ) -> str:
        """The deliberately bad project fails the gate with a reason per broken rule; nothing is pushed."""
        try:
            await dag.seaworthy().ship(source=bad, today="2026-11-27").sync()
        except dagger.QueryError as exc:
            text = str(exc)
            for rule in ("threshold.secret", "threshold.sast", "threshold.dependency", "image.root-user"):
                check(rule in text, f"gate failure does not name {rule}: {text[:2000]}")
            check("nothing was published" in text, "the failure must say nothing was published")
            return "gate failed as expected"
        raise Failed("ship of the bad project succeeded")

    @function
    async def ship_not_strict_returns_reports(
        self,
        bad: Annotated[dagger.Directory, DefaultPath("../fixtures/bad-project")],
    ) -> str:
        """--strict=false returns the reports of a failing gate, without publishing."""
        reports = dag.seaworthy().ship(source=bad, strict=False, today="2026-11-27")
        entries = await reports.entries()
        check("published.json" not in entries, f"a failing gate published: {entries}")
        verdict = json.loads(await reports.file("verdict.json").contents())
        check(verdict["passed"] is False, "verdict should fail")
        return "ok"

    @function
    async def scan_bad_project_fails_like_ship(
        self,
        bad: Annotated[dagger.Directory, DefaultPath("../fixtures/bad-project")],
    ) -> str:
        """scan gates: the bad project fails the call (no image rules), and --strict=false reports "failed"."""
        try:
            await dag.seaworthy().scan(source=bad, today="2026-11-27").sync()
        except dagger.QueryError as exc:
            text = str(exc)
            for rule in ("threshold.secret", "threshold.sast", "threshold.dependency"):
                check(rule in text, f"scan failure does not name {rule}: {text[:2000]}")
            check("image.root-user" not in text, "scan has no image: no image rule may fire")
        else:
            raise Failed("scan of the bad project passed")
        result = dag.seaworthy().scan(source=bad, strict=False, today="2026-11-27")
        summary = await result.summary()
        check("failed" in summary and "✅ passed" not in summary, summary[:2000])
        verdict = json.loads(await result.reports().file("verdict.json").contents())
        check(verdict["passed"] is False, "scan verdict should fail")
        return "ok"

    @function
    async def scan_is_deterministic(self) -> str:
        """Two scans of the example give byte-identical reports."""
        one = await dag.seaworthy().scan().reports().file("seaworthy.sarif").contents()
        two = await dag.seaworthy().scan().reports().file("seaworthy.sarif").contents()
        check(one == two, "SARIF differs between two identical scans")
        return "ok"

    @function
    async def build_failure_carries_the_build_message(self) -> str:
        broken = dag.directory().with_new_file("Dockerfile", "FROM scratch\nRUN /does-not-exist\n")
        try:
            await dag.seaworthy().build(source=broken).sync()
        except dagger.QueryError as exc:
            check("does not build" in str(exc), str(exc)[:2000])
            return "ok"
        raise Failed("a broken Dockerfile built")

    @function
    async def verify_rejects_unsigned_image(self) -> str:
        """verify of an image nobody signed fails, naming the failed checks (needs ttl.sh, a public registry)."""
        ref = await dag.seaworthy().publish(repository="ttl.sh/seaworthy-e2e-unsigned", tag="1h")
        keys = (
            dag.container()
            .from_("ghcr.io/sigstore/cosign/cosign:v3.1.2")
            .with_env_variable("COSIGN_PASSWORD", "")
            .with_workdir("/tmp")
            .with_exec(["cosign", "generate-key-pair"])
        )
        try:
            await dag.seaworthy().verify(ref=ref, public_key=keys.file("/tmp/cosign.pub"), tlog=False)
        except dagger.QueryError as exc:
            check("verification of" in str(exc) and "signature" in str(exc), str(exc)[:2000])
            return "ok"
        raise Failed("an unsigned image verified")

    @function
    async def all(self) -> str:
        """Run every case concurrently; fail with the names of the failing ones."""
        cases = {
            "ship_example": self.ship_example_publishes_signs_and_verifies,
            "ship_bad": self.ship_bad_project_fails_gate_and_publishes_nothing,
            "ship_not_strict": self.ship_not_strict_returns_reports,
            "scan_deterministic": self.scan_is_deterministic,
            "scan_bad": self.scan_bad_project_fails_like_ship,
            "build_failure": self.build_failure_carries_the_build_message,
            "verify_unsigned": self.verify_rejects_unsigned_image,
        }
        failures: dict[str, str] = {}

        async def one(name: str) -> None:
            try:
                await cases[name]()
            except Exception as exc:
                failures[name] = str(exc)[:1000]

        async with anyio.create_task_group() as tg:
            for name in cases:
                tg.start_soon(one, name)
        if failures:
            raise Failed("; ".join(f"{k}: {v}" for k, v in sorted(failures.items())))
        return f"{len(cases)} passed, 0 failed"
