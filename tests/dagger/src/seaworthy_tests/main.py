"""End-to-end tests of the Seaworthy module, run by CI systems that have a Dagger engine.

    dagger call -m tests/dagger all

Each case calls the real module (`dag.seaworthy()`), which runs the real tool images. Nothing is mocked.
Every function of the module is called at least once, and every failure path the issue names is checked:
the gate fails → nothing is pushed; a broken Dockerfile → the build's own error text; an unsigned image →
`verify` fails; a trivy DB older than allowed in offline mode → refused. Registry cases publish to an
in-engine registry service of the case (`own_registry`, passed as `--registry-service`) and sign with a
throwaway key: no account, no public registry. The engine-free suite (tests/engine_free) checks the query
chains these calls build; each of its issue-10 tests names the case here that would catch the same mistake.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

import anyio
import dagger
from dagger import DefaultPath, dag, function, object_type

TODAY = "2026-11-27"
COSIGN = "ghcr.io/sigstore/cosign/cosign:v3.1.2"  # a throwaway key pair; the module pins its own images
ALPINE = "alpine:3.22"


class Failed(Exception):
    pass


def check(cond: bool, message: str) -> None:
    if not cond:
        raise Failed(message)


async def expect_failure(call: Awaitable[object], *needles: str) -> str:
    """Await `call`; it must fail with every needle in its error text. Returns the text."""
    try:
        await call
    except dagger.QueryError as exc:
        text = str(exc)
        for needle in needles:
            check(needle in text, f"the failure does not say {needle!r}: {text[:2000]}")
        return text
    raise Failed(f"expected a failure naming {needles}, but the call succeeded")


async def throwaway_keys() -> tuple[dagger.Secret, dagger.File]:
    """A cosign key pair with an empty password: (private key as a Secret, public key file)."""
    gen = (
        dag.container()
        .from_(COSIGN)
        .with_env_variable("COSIGN_PASSWORD", "")
        .with_workdir("/tmp")
        .with_exec(["cosign", "generate-key-pair"])
    )
    private = await gen.file("/tmp/cosign.key").contents()
    return dag.set_secret("e2e-cosign-key", private), gen.file("/tmp/cosign.pub")


async def catalog(registry: dagger.Service) -> list[str]:
    """The repositories in the registry service (distribution's /v2/_catalog)."""
    out = await (
        dag.container()
        .from_(ALPINE)
        .with_service_binding("registry", registry)
        .with_exec(["wget", "-qO-", "http://registry:5000/v2/_catalog"])
        .stdout()
    )
    return list(json.loads(out).get("repositories") or [])


def own_registry(case: str) -> dagger.Service:
    """A plain-HTTP registry service for one case, its storage in a volume of its own.

    One definition, passed to several calls, is one service with one storage (the module's `registry`
    function is never cached, so a lazy `dag.seaworthy().registry()` evaluated twice could be two)."""
    return (
        dag.container()
        .from_("registry:3.1.1")
        .with_mounted_cache("/var/lib/registry", dag.cache_volume(f"e2e-{case}-{uuid.uuid4().hex}"))
        .with_exposed_port(5000)
        .as_service(use_entrypoint=True)
    )


def offline_config(max_age_hours: int) -> dagger.File:
    text = f"[scan.trivy]\noffline = true\nmax_db_age_hours = {max_age_hours}\n"
    return dag.directory().with_new_file("seaworthy.toml", text).file("seaworthy.toml")


@object_type
class SeaworthyTests:
    """End-to-end cases for Seaworthy."""

    # --- ship ---------------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    async def ship_example_publishes_signs_and_verifies(self) -> str:
        """`ship` with no flags: the bundled example passes the gate, is pushed to the ephemeral registry,
        signed with a throwaway key, attested and verified."""
        reports = dag.seaworthy().ship(today=TODAY)
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

    @function(cache="never")  # type: ignore[call-overload]
    async def ship_bad_project_fails_gate_and_pushes_nothing(
        self,
        bad: Annotated[dagger.Directory, DefaultPath("../fixtures/bad-project")],
    ) -> str:
        """The bad project fails the gate with a reason per broken rule, and the registry it was to be pushed
        to (a registry service of this test) holds no repository afterwards."""
        registry = own_registry("ship-bad")
        text = await expect_failure(
            dag.seaworthy()
            .ship(
                source=bad,
                today=TODAY,
                repository="registry:5000/e2e/bad",
                registry_service=registry,
                key=(await throwaway_keys())[0],
                tlog=False,
            )
            .sync(),
            "threshold.secret",
            "threshold.sast",
            "threshold.dependency",
            "image.root-user",
            "nothing was published",
        )
        repos = await catalog(registry)
        check("e2e/bad" not in repos, f"a failing gate pushed: {repos}")
        return text.splitlines()[0][:200]

    @function(cache="never")  # type: ignore[call-overload]
    async def ship_not_strict_returns_reports(
        self,
        bad: Annotated[dagger.Directory, DefaultPath("../fixtures/bad-project")],
    ) -> str:
        """--strict=false returns the reports of a failing gate, without publishing."""
        reports = dag.seaworthy().ship(source=bad, strict=False, today=TODAY)
        entries = await reports.entries()
        check("published.json" not in entries, f"a failing gate published: {entries}")
        verdict = json.loads(await reports.file("verdict.json").contents())
        check(verdict["passed"] is False, "verdict should fail")
        return "ok"

    @function(cache="never")  # type: ignore[call-overload]
    async def ship_to_a_registry_service(self) -> str:
        """ship --repository on a registry the caller runs (--registry-service): published there, by digest."""
        registry = own_registry("ship-service")
        key, _ = await throwaway_keys()
        reports = dag.seaworthy().ship(
            today=TODAY, repository="registry:5000/e2e/app", registry_service=registry, key=key, tlog=False
        )
        published = json.loads(await reports.file("published.json").contents())
        check(published["ref"].startswith("registry:5000/e2e/app@sha256:"), str(published))
        check("e2e/app" in await catalog(registry), "the image is not in the caller's registry")
        return published["ref"]

    # --- scanners -----------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
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

    @function(cache="never")  # type: ignore[call-overload]
    async def scan_is_deterministic(self) -> str:
        """Two scans of the example give byte-identical reports."""
        one = await dag.seaworthy().scan().reports().file("seaworthy.sarif").contents()
        two = await dag.seaworthy().scan().reports().file("seaworthy.sarif").contents()
        check(one == two, "SARIF differs between two identical scans")
        return "ok"

    @function(cache="never")  # type: ignore[call-overload]
    async def each_scanner_finds_the_bad_projects_problems(
        self,
        bad: Annotated[dagger.Directory, DefaultPath("../fixtures/bad-project")],
        express: Annotated[dagger.Directory, DefaultPath("../fixtures/express-api")],
    ) -> str:
        """Each scanner on its own reports something: semgrep, gitleaks, trivy-fs, hadolint, bandit on the bad project,
        njsscan on the Express fixture app.

        gitleaks' image declares `USER gitleaks`: its report is only written if the output folder is the
        container user's (issue 10, item 6)."""
        sw = dag.seaworthy()
        counts = {
            "semgrep": await sw.semgrep(source=bad).count(),
            "gitleaks": await sw.gitleaks(source=bad).count(),
            "trivy-fs": await sw.trivy_fs(source=bad).count(),
            "hadolint": await sw.hadolint(source=bad).count(),
            "bandit": await sw.bandit(source=bad).count(),
        }
        for name, count in counts.items():
            check(count > 0, f"{name} found nothing in the bad project: {counts}")
        # njsscan runs only where there is JavaScript: the Express fixture app has its injections
        check(await sw.njsscan(source=express).count() > 0, "njsscan found nothing in the Express fixture app")
        return json.dumps(counts, sort_keys=True)

    @function(cache="never")  # type: ignore[call-overload]
    async def scan_is_fresh_per_call(self) -> str:
        """scan is cached per session only (issue 10, item 1): the function says so to the engine."""
        summary = await dag.seaworthy().scan().summary()
        check(bool(summary.strip()), "empty summary")
        return "ok"

    # --- image --------------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    async def build_failure_carries_the_build_message(self) -> str:
        """A broken Dockerfile fails `build` with the build's own error text."""
        broken = dag.directory().with_new_file("Dockerfile", "FROM alpine:3.22\nRUN /does-not-exist\n")
        await expect_failure(dag.seaworthy().build(source=broken).sync(), "does not build", "/does-not-exist")
        return "ok"

    @function(cache="never")  # type: ignore[call-overload]
    async def build_with_a_named_secret(self) -> str:
        """--secrets with --secret-ids: an unnamed secret reaches the Dockerfile under its id (item 3)."""
        src = dag.directory().with_new_file(
            "Dockerfile",
            "FROM alpine:3.22\n"
            'RUN --mount=type=secret,id=npm test "$(cat /run/secrets/npm)" = "s3cret-value"\n'
            "USER 65532\n",
        )
        secret = dag.set_secret("unrelated-name", "s3cret-value")
        await dag.seaworthy().build(source=src, secrets=[secret], secret_ids=["npm"]).sync()
        await expect_failure(dag.seaworthy().build(source=src, secrets=[secret]).sync(), "--secret-ids")
        return "ok"

    @function(cache="never")  # type: ignore[call-overload]
    async def gate_refuses_malformed_input_and_hostile_policies(self) -> str:
        """`gate` validates its input against the published schema and checks user policies before OPA decides;
        OPA itself refuses recursion (the error names the user's folder, not the container mount)."""
        valid = {
            "schema": "seaworthy.gate-input/v2",
            "today": "2026-11-27",
            "config": {
                "thresholds": dict.fromkeys(
                    ("dependency", "image-vulnerability", "license", "misconfiguration", "sast", "secret"), "HIGH"
                ),
                "fixable_only": False,
                "required_labels": [],
                "license_deny": [],
                "license_warn": [],
                "relaxations": [],
                "source": "seaworthy.toml",
            },
            "findings": [],
            "sbom": None,
            "images": [],
            "build": None,
            "exceptions": [],
        }

        def doc(value: object) -> dagger.File:
            return dag.directory().with_new_file("gate-input.json", json.dumps(value)).file("gate-input.json")

        def policy(text: str) -> dagger.Directory:
            return dag.directory().with_new_file("m.rego", "package seaworthy.rules.m\n\nimport rego.v1\n\n" + text)

        passed = await dag.seaworthy().gate(input=doc(valid)).passed()
        check(passed is True, "an empty valid document must pass")
        secret = {
            "category": "Secret",
            "rule_id": "github-pat",
            "severity": "CRITICAL",
            "rank": 5,
            "fixable": False,
            "package": None,
            "locations": [{"path": "conf.py", "line": 3}],
            "where": "conf.py:3",
            "tools": ["gitleaks"],
            "fingerprint": "0" * 32,
        }
        cases: list[tuple[dagger.File, dagger.Directory | None, str]] = [
            (doc({}), None, "gate input --input is not a Seaworthy gate input"),
            (doc({**valid, "findings": [secret]}), None, 'findings[0].category is "Secret"'),
            (
                doc(valid),
                policy("x := http.send({})\n"),
                "--policy/m.rego:5: package seaworthy.rules.m calls http.send",
            ),
            (doc(valid), policy("a := b\n\nb := a\n"), "--policy/m.rego"),
        ]
        for input_file, folder, expected in cases:
            try:
                await dag.seaworthy().gate(input=input_file, policy=folder).passed()
            except dagger.QueryError as exc:
                check(expected in str(exc), f"expected {expected!r} in: {str(exc)[:2000]}")
                continue
            raise Failed(f"gate accepted a case that must fail with {expected!r}")
        return "ok"

    @function(cache="never")  # type: ignore[call-overload]
    async def sbom_facts_and_image_scan_of_the_example(self) -> str:
        """sbom (trivy and syft), facts and scan-image of the example; scan-image of a given --image."""
        sw = dag.seaworthy()
        sboms = sw.sbom()
        cdx = json.loads(await sboms.file("sbom.cdx.json").contents())
        check(cdx.get("bomFormat") == "CycloneDX" and cdx.get("components"), "CycloneDX SBOM is empty")
        spdx = json.loads(await sw.sbom(generator="syft").file("sbom.spdx.json").contents())
        check(spdx.get("spdxVersion", "").startswith("SPDX-2."), "SPDX SBOM")
        facts = await sw.facts()
        check("sha256:" in facts and "config_digest" in facts, facts[:500])
        scanned = sw.scan_image()
        check(await scanned.count() >= 0 and bool(await scanned.summary()), "scan-image summary")
        other = await sw.scan_image(image=dag.container().from_(ALPINE)).count()
        check(other >= 0, "scan-image --image")
        return "ok"

    @function(cache="never")  # type: ignore[call-overload]
    async def offline_db_too_old_is_refused(self) -> str:
        """Offline mode with max_db_age_hours=1 refuses the cached trivy DB (trivy-db is published every
        6 h, so the cached one is older than an hour; a fresh engine has none, which is refused too)."""
        text = await expect_failure(dag.seaworthy().scan_image(config=offline_config(1)).count())
        check(
            "older than the allowed 1 h" in text or "offline mode cannot update it" in text,
            f"not refused for its age or absence: {text[:2000]}",
        )
        return "ok"

    @function(cache="never")  # type: ignore[call-overload]
    async def scan_image_of_an_image_with_a_jar(self) -> str:
        """An image holding a JAR scans on any cache: the Java DB is fetched when trivy asks for it (item 4)."""
        src = dag.directory().with_new_file(
            "Dockerfile",
            "FROM python:3.13.15-slim-trixie\n"
            "RUN python3 -c \"import zipfile; z = zipfile.ZipFile('/opt/demo-1.0.jar', 'w'); "
            "z.writestr('META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\\\\n'); z.close()\"\n"
            "USER 65532\n",
        )
        count = await dag.seaworthy().scan_image(source=src).count()
        check(count >= 0, "scan-image of an image with a JAR")
        return "ok"

    # --- gate ---------------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    async def gate_reevaluates_saved_inputs(
        self,
        bad: Annotated[dagger.Directory, DefaultPath("../fixtures/bad-project")],
    ) -> str:
        """`gate` on the gate-input.json of a passing and of a failing ship gives the same verdicts."""
        good_input = dag.seaworthy().ship(today=TODAY).file("gate-input.json")
        bad_input = dag.seaworthy().ship(source=bad, strict=False, today=TODAY).file("gate-input.json")
        check(await dag.seaworthy().gate(input=good_input).passed(), "the example's saved input must pass")
        check(not await dag.seaworthy().gate(input=bad_input).passed(), "the bad project's saved input must fail")
        return "ok"

    # --- release functions on their own -------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    async def publish_sign_attest_verify(self) -> str:
        """publish → sign → attest → verify on a registry service with a throwaway key; then an unsigned
        image fails verify (a second image published to the same registry, never signed)."""
        sw = dag.seaworthy()
        registry = own_registry("release")
        key, public = await throwaway_keys()
        ref = await sw.publish(repository="registry:5000/e2e/signed", tag="1", registry_service=registry)
        check("@sha256:" in ref, ref)
        await sw.sign(ref=ref, key=key, tlog=False, registry_service=registry)
        await sw.attest(
            ref=ref,
            predicate=sw.sbom().file("sbom.cdx.json"),
            type="cyclonedx",
            key=key,
            tlog=False,
            registry_service=registry,
        )
        report = await sw.verify(ref=ref, public_key=public, require=["sbom"], tlog=False, registry_service=registry)
        check(json.loads(report)["passed"] is True, report[:2000])
        unsigned = await sw.publish(
            repository="registry:5000/e2e/unsigned", image=dag.container().from_(ALPINE), registry_service=registry
        )
        await expect_failure(
            sw.verify(ref=unsigned, public_key=public, tlog=False, registry_service=registry), "signature"
        )
        return ref

    @function(cache="never")  # type: ignore[call-overload]
    async def registry_with_a_short_username(self) -> str:
        """publish, sign and verify against a registry with basic auth and a two-letter user name (item 2: a
        secret user name would be scrubbed out of cosign's base64 output; item 8: skopeo's auth file is
        written in its container from the password secret)."""
        htpasswd = (
            dag.container()
            .from_("httpd:2.4-alpine")
            .with_exec(["htpasswd", "-Bbn", "ab", "e2e-password"], redirect_stdout="/tmp/htpasswd")
            .file("/tmp/htpasswd")
        )
        registry = (
            dag.container()
            .from_("registry:3.1.1")
            .with_mounted_file("/auth/htpasswd", htpasswd)
            .with_env_variable("REGISTRY_AUTH", "htpasswd")
            .with_env_variable("REGISTRY_AUTH_HTPASSWD_REALM", "e2e")
            .with_env_variable("REGISTRY_AUTH_HTPASSWD_PATH", "/auth/htpasswd")
            .with_exposed_port(5000)
            .as_service(use_entrypoint=True)
        )
        password = dag.set_secret("e2e-registry-password", "e2e-password")
        sw = dag.seaworthy()
        key, public = await throwaway_keys()
        ref = await sw.publish(
            repository="registry:5000/e2e/auth", username="ab", password=password, registry_service=registry
        )
        auth = {"registry_username": "ab", "registry_password": password, "registry_service": registry}
        await sw.sign(ref=ref, key=key, tlog=False, **auth)
        await sw.attest(
            ref=ref, predicate=sw.sbom().file("sbom.cdx.json"), type="cyclonedx", key=key, tlog=False, **auth
        )
        report = await sw.verify(ref=ref, public_key=public, require=["sbom"], tlog=False, **auth)
        check(json.loads(report)["passed"] is True, report[:2000])
        await expect_failure(sw.publish(repository="registry:5000/e2e/anon", registry_service=registry))
        return ref

    @function(cache="never")  # type: ignore[call-overload]
    async def registry_function_starts_an_empty_registry(self) -> str:
        """`registry` returns a running, empty, plain-HTTP registry service."""
        started = await dag.seaworthy().registry().start()
        check(await catalog(started) == [], "the ephemeral registry is not empty")
        await started.stop()
        return "ok"

    @function(cache="never")  # type: ignore[call-overload]
    async def version_lists_every_pinned_image(self) -> str:
        text = await dag.seaworthy().version()
        for tool in ("trivy", "semgrep", "gitleaks", "hadolint", "syft", "opa", "skopeo", "cosign", "registry"):
            check(f"\n{tool} " in text, f"version does not list {tool}: {text}")
        return text

    # --- everything ---------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    async def all(
        self,
        bad: Annotated[dagger.Directory, DefaultPath("../fixtures/bad-project")],
        express: Annotated[dagger.Directory, DefaultPath("../fixtures/express-api")],
    ) -> str:
        """Run every case concurrently; fail with the names of the failing ones."""
        cases: dict[str, Callable[[], Awaitable[str]]] = {
            "ship_example": self.ship_example_publishes_signs_and_verifies,
            "ship_bad": lambda: self.ship_bad_project_fails_gate_and_pushes_nothing(bad),
            "ship_not_strict": lambda: self.ship_not_strict_returns_reports(bad),
            "ship_registry_service": self.ship_to_a_registry_service,
            "scan_deterministic": self.scan_is_deterministic,
            "scanners_each": lambda: self.each_scanner_finds_the_bad_projects_problems(bad, express),
            "scan_fresh": self.scan_is_fresh_per_call,
            "scan_bad": lambda: self.scan_bad_project_fails_like_ship(bad),
            "build_failure": self.build_failure_carries_the_build_message,
            "build_secret": self.build_with_a_named_secret,
            "image_stages": self.sbom_facts_and_image_scan_of_the_example,
            "image_with_jar": self.scan_image_of_an_image_with_a_jar,
            "offline_db_refused": self.offline_db_too_old_is_refused,
            "gate": lambda: self.gate_reevaluates_saved_inputs(bad),
            "release": self.publish_sign_attest_verify,
            "registry_auth": self.registry_with_a_short_username,
            "registry_function": self.registry_function_starts_an_empty_registry,
            "version": self.version_lists_every_pinned_image,
            "gate_hostile": self.gate_refuses_malformed_input_and_hostile_policies,
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
