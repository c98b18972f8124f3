"""End-to-end tests of the Seaworthy module, run by CI systems that have a Dagger engine.

    dagger call -m tests/dagger all

Each case calls the real module (`dag.seaworthy()`), which runs the real tool images. Nothing is mocked.
Every function of the module and of its result objects (Image, Release) is called at least once, and every
failure path the issue names is checked: the gate fails → nothing is pushed; a broken Dockerfile → the
build's own error text; an unsigned image → `verify` fails; a trivy DB older than allowed in offline mode →
refused. Registry cases publish to an in-engine registry service of the case (`own_registry`, chained with
`with_registry_service`) and sign with a throwaway key (`with_cosign_key`): no account, no public registry.
Other engineers' module cases live in files of their own next to this one. The engine-free suite (tests/engine_free) checks the query
chains these calls build; each of its issue-10 tests names the case here that would catch the same mistake.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import anyio
import dagger
from dagger import DefaultPath, dag, function, object_type

from seaworthy_tests.example_calls import example_cases
from seaworthy_tests.modules_calls import module_cases

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

    One definition, chained once, is one service with one storage (the module's `registry` function is
    never cached, so a lazy `dag.seaworthy().registry()` evaluated twice could be two)."""
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


def signer(registry: dagger.Service, key: dagger.Secret) -> Any:
    """The module configured for a case's registry service and throwaway key (no transparency log)."""
    return dag.seaworthy().with_registry_service(service=registry).with_cosign_key(key=key, tlog=False)


@object_type
class SeaworthyTests:
    """End-to-end cases for Seaworthy."""

    # --- ship ---------------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    async def ship_example_publishes_signs_and_verifies(self) -> str:
        """`ship` with no flags: the bundled example passes the gate, is pushed to the ephemeral registry,
        signed with a throwaway key, attested and verified; the Release carries the ref, digests and SBOM."""
        release = dag.seaworthy().ship(today=TODAY)
        reports = release.reports()
        published = json.loads(await reports.file("published.json").contents())
        check("@sha256:" in published["ref"], f"not published by digest: {published}")
        check(await release.ref() == published["ref"], "Release.ref is not the published ref")
        check(await release.passed() is True and await release.reasons() == [], "the example must pass")
        digests = await release.config_digests()
        check(bool(digests) and all(d.startswith("sha256:") for d in digests), str(digests))
        check(sorted(published["config_digests"].values()) == sorted(digests), "config digests differ")
        cdx = json.loads(await release.sbom().file("sbom.cdx.json").contents())
        check(cdx.get("bomFormat") == "CycloneDX", "Release.sbom")
        verification = json.loads(await reports.file("verification.json").contents())
        check(verification["passed"] is True, f"verification failed: {verification}")
        names = {c["name"] for c in verification["checks"]}
        for needed in ("signature", "attestation:sbom", "attestation:provenance", "attestation:verdict"):
            check(needed in names, f"missing check {needed}: {sorted(names)}")
        report = json.loads(await reports.file("report.json").contents())
        check(report["verdict"]["passed"] is True, "the example must pass the gate")
        sarif = json.loads(await reports.file("seaworthy.sarif").contents())
        check(sarif["version"] == "2.1.0", "SARIF version")
        check("passed" in (await release.summary()).lower(), "Release.summary")
        # the ephemeral registry ended with ship: verify later says so instead of failing on the network
        await expect_failure(release.verify(), "ephemeral")
        return published["ref"]

    @function(cache="never")  # type: ignore[call-overload]
    async def ship_bad_project_fails_gate_and_pushes_nothing(
        self,
        bad: Annotated[dagger.Directory, DefaultPath("../fixtures/bad-project")],
    ) -> str:
        """The bad project fails the gate with a reason per broken rule, and the registry it was to be pushed
        to (a registry service of this test) holds no repository afterwards."""
        registry = own_registry("ship-bad")
        sw = signer(registry, (await throwaway_keys())[0])
        text = await expect_failure(
            sw.ship(source=bad, today=TODAY, repository="registry:5000/e2e/bad").ref(),
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
        """--strict=false returns the release of a failing gate: no ref, the reasons, the reports."""
        release = dag.seaworthy().ship(source=bad, strict=False, today=TODAY)
        check(await release.ref() == "", "a failing gate published")
        check(await release.passed() is False, "Release.passed of a failing gate")
        reasons = await release.reasons()
        check(any(r.startswith("threshold.secret: ") for r in reasons), str(reasons))
        check(json.loads(await release.verdict())["passed"] is False, "Release.verdict")
        entries = await release.reports().entries()
        check("published.json" not in entries, f"a failing gate published: {entries}")
        gitlab_reports = {
            "gl-sast-report.json",
            "gl-dependency-scanning-report.json",
            "gl-container-scanning-report.json",
            "gl-secret-detection-report.json",
        }
        check(gitlab_reports <= set(entries), f"GitLab's four reports missing: {entries}")
        verdict = json.loads(await release.reports().file("verdict.json").contents())
        check(verdict["passed"] is False, "verdict should fail")
        await expect_failure(release.verify(), "nothing was published")
        return "ok"

    @function(cache="never")  # type: ignore[call-overload]
    async def ship_to_a_registry_service(self) -> str:
        """ship --repository on a registry the caller runs (with-registry-service): published there, by
        digest, with the provenance chained; Release.verify checks it again with the chained key's public key."""
        registry = own_registry("ship-service")
        key, _ = await throwaway_keys()
        release = (
            signer(registry, key)
            .with_provenance(source_repository="https://example.com/e2e/app", revision="0" * 40)
            .ship(today=TODAY, repository="registry:5000/e2e/app")
        )
        ref = await release.ref()
        check(ref.startswith("registry:5000/e2e/app@sha256:"), ref)
        check("e2e/app" in await catalog(registry), "the image is not in the caller's registry")
        again = json.loads(await release.verify(require=["sbom", "provenance"], tlog=False))
        check(again["passed"] is True, str(again)[:2000])
        return ref

    # --- scanners -----------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    async def scan_bad_project_fails_like_ship(
        self,
        bad: Annotated[dagger.Directory, DefaultPath("../fixtures/bad-project")],
    ) -> str:
        """scan gates: the bad project fails the call (no image rules), and --strict=false reports "failed"."""
        try:
            await dag.seaworthy().scan(source=bad, today="2026-11-27").count()
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
        check(await result.passed() is False, "ScanResult.passed")
        check(json.loads(await result.verdict())["passed"] is False, "ScanResult.verdict")
        verdict = json.loads(await result.reports().file("verdict.json").contents())
        check(verdict["passed"] is False, "scan verdict should fail")
        return "ok"

    @function(cache="never")  # type: ignore[call-overload]
    async def scan_with_a_bad_exception_file_names_it(
        self,
        bad: Annotated[dagger.Directory, DefaultPath("../fixtures/bad-project")],
    ) -> str:
        """with-exceptions: a file that is not an exception file fails in one line naming it."""
        wrong = dag.directory().with_new_file("waivers.toml", "[scan]\nscanners = []\n").file("waivers.toml")
        await expect_failure(
            dag.seaworthy().with_exceptions(file=wrong).scan(source=bad, today=TODAY).count(),
            "waivers.toml",
            "unexpected top-level key",
        )
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
        # a single scanner decides nothing: not gated, so not passed, and its reports say so
        alone = sw.gitleaks(source=bad)
        check(await alone.gated() is False and await alone.passed() is False, "a single scanner passed ungated")
        check((await alone.summary()).startswith("## Seaworthy: not gated\n"), "summary.md of a single scanner")
        report = json.loads(await alone.reports().file("report.json").contents())
        check(report["gated"] is False and report["verdict"] is None, "report.json of a single scanner")
        # njsscan runs only where there is JavaScript: the Express fixture app has its injections
        check(await sw.njsscan(source=express).count() > 0, "njsscan found nothing in the Express fixture app")
        return json.dumps(counts, sort_keys=True)

    @function(cache="never")  # type: ignore[call-overload]
    async def scan_is_fresh_per_call(self) -> str:
        """scan is cached per session only (issue 10, item 1): the function says so to the engine; JSON logs."""
        summary = await dag.seaworthy().with_log_format(format="json").scan().summary()
        check(bool(summary.strip()), "empty summary")
        await expect_failure(dag.seaworthy().with_log_format(format="xml").version(), "console or json")
        return "ok"

    # --- chained configuration errors ---------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    async def chained_signing_and_registry_errors_are_one_line(self) -> str:
        """Two signing modes, keyless without a token, a KMS key that is no URI, a bad registry address and an
        unexpanded CI variable in a repository each fail in one line naming the input."""
        key, _ = await throwaway_keys()
        sw = dag.seaworthy()
        await expect_failure(sw.with_cosign_key(key=key).with_kms(key="awskms:///alias/x").version(), "one way to sign")
        await expect_failure(sw.with_keyless(identity="me").version(), "needs an OIDC token")
        await expect_failure(sw.with_kms(key="alias/x").version(), "not a KMS key URI")
        await expect_failure(
            sw.with_registry_auth(address="ghcr.io/org", username="me", secret=key).version(), "not a registry address"
        )
        await expect_failure(
            sw.with_insecure_registry(address="registry:5000")
            .image(container=dag.container().from_(ALPINE))
            .publish(repository="ghcr.io/$OWNER/app"),
            "not expanded",
        )
        return "ok"

    # --- image --------------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    async def build_failure_carries_the_build_message(self) -> str:
        """A broken Dockerfile fails `build` with the build's own error text."""
        broken = dag.directory().with_new_file("Dockerfile", "FROM alpine:3.22\nRUN /does-not-exist\n")
        await expect_failure(dag.seaworthy().build(source=broken).platforms(), "does not build", "/does-not-exist")
        return "ok"

    @function(cache="never")  # type: ignore[call-overload]
    async def build_with_a_named_secret_and_a_build_arg(self) -> str:
        """with-build-secret: an unnamed secret reaches the Dockerfile under its id (item 3); with-build-arg
        reaches ARG; an id the Dockerfile cannot mount is refused."""
        src = dag.directory().with_new_file(
            "Dockerfile",
            "FROM alpine:3.22\n"
            "ARG GREETING\n"
            'RUN test "$GREETING" = "hello"\n'
            'RUN --mount=type=secret,id=npm test "$(cat /run/secrets/npm)" = "s3cret-value"\n'
            "USER 65532\n",
        )
        secret = dag.set_secret("unrelated-name", "s3cret-value")
        sw = dag.seaworthy().with_build_arg(name="GREETING", value="hello")
        await sw.with_build_secret(id="npm", secret=secret).build(source=src).platforms()
        await expect_failure(sw.build(source=src).platforms(), "does not build")
        await expect_failure(sw.with_build_secret(id="a b", secret=secret).version(), "not a Dockerfile secret id")
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

        result = dag.seaworthy().gate(input=doc(valid))
        check(await result.passed() is True, "an empty valid document must pass")
        check(await result.reasons() == [] and bool(await result.summary()), "GateResult of a pass")
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
            sw = dag.seaworthy() if folder is None else dag.seaworthy().with_policy(directory=folder)
            try:
                await sw.gate(input=input_file).passed()
            except dagger.QueryError as exc:
                check(expected in str(exc), f"expected {expected!r} in: {str(exc)[:2000]}")
                continue
            raise Failed(f"gate accepted a case that must fail with {expected!r}")
        return "ok"

    @function(cache="never")  # type: ignore[call-overload]
    async def sbom_facts_and_image_scan_of_the_example(self) -> str:
        """Image.sbom (trivy and syft), facts and scan of the example; scan of the caller's own container."""
        image = dag.seaworthy().build()
        sboms = image.sbom()
        cdx = json.loads(await sboms.file("sbom.cdx.json").contents())
        check(cdx.get("bomFormat") == "CycloneDX" and cdx.get("components"), "CycloneDX SBOM is empty")
        spdx = json.loads(await image.sbom(generator="syft").file("sbom.spdx.json").contents())
        check(spdx.get("spdxVersion", "").startswith("SPDX-2."), "SPDX SBOM")
        facts = await image.facts()
        check("sha256:" in facts and "config_digest" in facts, facts[:500])
        scanned = image.scan()
        check(await scanned.count() >= 0 and bool(await scanned.summary()), "Image.scan summary")
        check(
            await scanned.verdict() == "" and await scanned.gated() is False and await scanned.passed() is False,
            "an image scan is not gated, so it does not pass",
        )
        check(await image.tarball().size() > 0 and bool(await image.container().id()), "Image fields")
        other = await dag.seaworthy().image(container=dag.container().from_(ALPINE)).scan().count()
        check(other >= 0, "Image.scan of a given container")
        return "ok"

    @function(cache="never")  # type: ignore[call-overload]
    async def offline_db_too_old_is_refused(self) -> str:
        """Offline mode with max_db_age_hours=1 refuses the cached trivy DB (trivy-db is published every
        6 h, so the cached one is older than an hour; a fresh engine has none, which is refused too)."""
        image = dag.seaworthy().with_config(file=offline_config(1)).image(container=dag.container().from_(ALPINE))
        text = await expect_failure(image.scan().count())
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
        count = await dag.seaworthy().build(source=src).scan().count()
        check(count >= 0, "Image.scan of an image with a JAR")
        return "ok"

    # --- gate ---------------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    async def gate_reevaluates_saved_inputs(
        self,
        bad: Annotated[dagger.Directory, DefaultPath("../fixtures/bad-project")],
    ) -> str:
        """`gate` on the gate-input.json of a passing and of a failing ship gives the same verdicts."""
        good_input = dag.seaworthy().ship(today=TODAY).reports().file("gate-input.json")
        bad_input = dag.seaworthy().ship(source=bad, strict=False, today=TODAY).reports().file("gate-input.json")
        check(await dag.seaworthy().gate(input=good_input).passed(), "the example's saved input must pass")
        failed = dag.seaworthy().gate(input=bad_input)
        check(not await failed.passed(), "the bad project's saved input must fail")
        check(any(r.startswith("threshold.") for r in await failed.reasons()), "GateResult.reasons")
        return "ok"

    # --- release functions on their own -------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    async def publish_sign_attest_verify(self) -> str:
        """Image.publish → sign → attest → verify on a registry service with a throwaway key (verify with the
        public key given, and with the chained key's own); a mixed-case repository is lower-cased; then an
        unsigned image fails verify (a second image published to the same registry, never signed)."""
        registry = own_registry("release")
        key, public = await throwaway_keys()
        sw = signer(registry, key)
        image = sw.build()
        ref = await image.publish(repository="registry:5000/e2e/signed", tag="1")
        check(ref.startswith("registry:5000/e2e/signed@sha256:"), ref)
        await sw.sign(ref=ref)
        await sw.attest(ref=ref, predicate=image.sbom().file("sbom.cdx.json"), predicate_type="cyclonedx")
        report = await sw.verify(ref=ref, public_key=public, require=["sbom"], tlog=False)
        check(json.loads(report)["passed"] is True, report[:2000])
        report = await sw.verify(ref=ref, require=["sbom"], tlog=False)
        check(json.loads(report)["passed"] is True, report[:2000])
        alpine = sw.image(container=dag.container().from_(ALPINE))
        mixed = await alpine.publish(repository="registry:5000/E2E/Mixed-Case")
        check(mixed.startswith("registry:5000/e2e/mixed-case@sha256:"), mixed)
        unsigned = await alpine.publish(repository="registry:5000/e2e/unsigned")
        await expect_failure(sw.verify(ref=unsigned, public_key=public, tlog=False), "signature")
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
        key, public = await throwaway_keys()
        sw = signer(registry, key).with_registry_auth(address="registry:5000", username="ab", secret=password)
        image = sw.build()
        ref = await image.publish(repository="registry:5000/e2e/auth")
        await sw.sign(ref=ref)
        await sw.attest(ref=ref, predicate=image.sbom().file("sbom.cdx.json"), predicate_type="cyclonedx")
        report = await sw.verify(ref=ref, public_key=public, require=["sbom"], tlog=False)
        check(json.loads(report)["passed"] is True, report[:2000])
        anonymous = dag.seaworthy().with_registry_service(service=registry).build()
        await expect_failure(anonymous.publish(repository="registry:5000/e2e/anon"))
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
        app: Annotated[dagger.Directory, DefaultPath("../../examples/app")],
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
            "scan_bad_exceptions": lambda: self.scan_with_a_bad_exception_file_names_it(bad),
            "chain_errors": self.chained_signing_and_registry_errors_are_one_line,
            "build_failure": self.build_failure_carries_the_build_message,
            "build_secret": self.build_with_a_named_secret_and_a_build_arg,
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
        cases.update(module_cases(bad))
        cases.update(example_cases(app, bad))
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
