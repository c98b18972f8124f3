"""`ship`: scan ∥ (build once → tarball → facts, SBOM, image scan) → gate → publish → sign → attest → verify.

Data moves one way. The only image is `Built.tarball`; what is published is that tarball; the config
digests read back from the registry must equal the ones the scanners saw.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, date, datetime
from typing import Any

import anyio
import attrs
import dagger

from pipeline import log
from pipeline.config import Config
from pipeline.errors import ConfigError, InputError
from pipeline.formats import gitlab, intoto, openvex, sbom_pair
from pipeline.formats.dev_install import dev_install
from pipeline.formats.trivyignore import render_trivyignore
from pipeline.model import ImageFacts, ToolRun, Verdict, as_scanned
from pipeline.model_gate import BuildFacts, Exception_
from pipeline.policy.config import gate_config_from
from pipeline.policy.exceptions import load_exception_file, parse_exceptions
from pipeline.policy.input import build_input, gate_input_text
from pipeline.reports import merged_findings
from pipeline.stages import gate as gate_stage
from pipeline.stages import image as image_stage
from pipeline.stages import release, trivydb
from pipeline.stages import report as report_stage
from pipeline.stages import scan as scan_stage
from pipeline.stages.runner import unwrap
from pipeline.tools import cosign, registry, trivy


@attrs.frozen
class Plan:
    """Where and how to release, decided before anything runs (so bad arguments fail first)."""

    repository: str
    tag: str
    username: str
    password: dagger.Secret | None
    insecure: bool
    signing: release.Signing
    source_repository: str = ""
    revision: str = ""
    verify_identity: str = ""
    verify_issuer: str = ""
    service: dagger.Service | None = None
    """The caller's registry (with-registry-service), reached from the tool containers as `registry.ALIAS`."""

    @property
    def ephemeral(self) -> bool:
        return not self.repository

    @classmethod
    def from_args(
        cls,
        *,
        repository: str,
        tag: str,
        username: str,
        password: dagger.Secret | None,
        insecure: bool,
        signing: release.Signing,
        source_repository: str = "",
        revision: str = "",
        verify_identity: str = "",
        verify_issuer: str = "",
        service: dagger.Service | None = None,
    ) -> Plan:
        if service is not None and not repository:
            raise InputError(
                "with-registry-service needs --repository (where to push in it), e.g. "
                "with-registry-service --service=tcp://localhost:5000 ship --repository=localhost:5000/team/app"
            )
        if repository:
            release.Target.parse(
                repository, tag, username=username, password=password, insecure=insecure, service=service
            )
        if signing.signer.mode is cosign.SigningMode.KEYLESS and not verify_identity:
            raise InputError(
                "keyless signing needs with-keyless --identity (the certificate identity ship must see when it "
                "verifies, e.g. https://github.com/ORG/REPO/.github/workflows/ship.yml@refs/heads/main)"
            )
        issuer = verify_issuer
        if signing.signer.mode is cosign.SigningMode.KEYLESS and not issuer:
            if signing.signer.oidc is not cosign.Oidc.GITHUB_ACTIONS:
                raise InputError(
                    "keyless signing with --identity-token needs with-keyless --issuer (GitLab: https://gitlab.com)"
                )
            issuer = "https://token.actions.githubusercontent.com"
        return cls(
            repository,
            tag,
            username,
            password,
            insecure,
            signing,
            source_repository,
            revision,
            verify_identity,
            issuer,
            service,
        )


@attrs.frozen
class ShipOutcome:
    verdict: Verdict
    reports: dagger.Directory
    failure_message: str
    published: str = ""
    config_digests: tuple[str, ...] = ()
    """The image config digest of each platform built (the ones published, when it was)."""
    sbom: dagger.Directory | None = None
    """sbom.cdx.json and sbom.spdx.json of the image (the same files as in `reports`)."""
    summary: str = ""
    """summary.md of the reports (the verdict first)."""


async def load_exceptions_for(source: dagger.Directory, cfg: Config) -> tuple[Exception_, ...]:
    """Exceptions from seaworthy.toml's [[exceptions]] and, if set, the separate exception file."""
    found = list(parse_exceptions(cfg.exceptions, source=cfg.source_file or "seaworthy.toml"))
    path = cfg.gate.exceptions_file
    if path:
        if not await source.exists(path):
            raise ConfigError(
                f"{cfg.source_file or 'seaworthy.toml'}: gate.exceptions_file {path!r} does not exist in the "
                "source; fix the path (relative to the source root) or remove the key."
            )
        text = await source.file(path).contents()
        extra = load_exception_file(text, source=path)
        offset = len(found)
        found += [attrs.evolve(e, index=e.index + offset) for e in extra]
    return tuple(found)


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


async def gather(*jobs: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run jobs concurrently; re-raise the first real error, not an ExceptionGroup."""
    try:
        async with anyio.create_task_group() as tg:
            for job in jobs:
                tg.start_soon(job)
    except BaseExceptionGroup as group:
        raise unwrap(group) from None


async def ship(
    source: dagger.Directory,
    cfg: Config,
    plan: Plan,
    *,
    secrets: Sequence[dagger.Secret] = (),
    user_policy: dagger.Directory | None = None,
    today: date,
    now: datetime | None = None,
) -> ShipOutcome:
    logger = log.get()
    started = now or datetime.now(UTC)
    dockerfile_text = await image_stage.check_source(source, cfg.build.dockerfile)
    exceptions = await load_exceptions_for(source, cfg)
    image_name = str(release.Target.parse(plan.repository or registry.DEFAULT_REPOSITORY, plan.tag).reference.name)
    user_policies: list[tuple[str, dagger.Directory]] = [(d, source.directory(d)) for d in cfg.gate.policy_dirs]
    if user_policy is not None:
        user_policies.append(("--policy", user_policy))

    built = image_stage.build_variants(source, cfg, secrets=secrets)
    source_runs: tuple[ToolRun, ...] = ()
    image_runs: tuple[ToolRun, ...] = ()
    facts: tuple[ImageFacts, ...] = ()
    sbom_files: image_stage.SbomFiles | None = None

    source_sbom = ""

    async def sbom_of_source() -> None:
        nonlocal source_sbom
        source_sbom = await scan_stage.source_sbom(source)

    async def scan_source() -> None:
        nonlocal source_runs
        # the scanners see every finding: exceptions are applied by the gate, which keeps their evidence
        source_runs = await scan_stage.run_scanners(source, cfg, now=started, refresh_db=False)
        logger.info("source scan finished", findings=sum(len(r.findings) for r in source_runs))

    async def describe_image() -> None:
        nonlocal image_runs, facts, sbom_files
        await image_stage.ensure_built(built)

        async def get_facts() -> None:
            nonlocal facts
            facts = await image_stage.image_facts(built, dockerfile_text, build_args=dict(cfg.build.build_args))

        async def get_sbom() -> None:
            nonlocal sbom_files
            sbom_files = await image_stage.sbom(built, cfg)

        async def get_vulns() -> None:
            nonlocal image_runs
            image_runs = await image_stage.scan_image(built, cfg, now=started)

        await gather(get_facts, get_sbom, get_vulns)
        logger.info("image described", platforms=len(facts))

    await trivydb.refresh(cfg, now=started)  # once, before any trivy scan reads the DB offline
    await gather(scan_source, sbom_of_source, describe_image)
    assert image_runs and sbom_files is not None
    runs = (*source_runs, *image_runs)
    findings = merged_findings(runs)  # merged, scrubbed of every secret value any run marked

    pair = sbom_pair.finalize(sbom_files.cyclonedx, sbom_files.spdx, tool=sbom_files.tool)
    cdx_text, spdx_text, sbom_summary = pair.cyclonedx, pair.spdx, pair.summary

    build_facts = BuildFacts(
        config_digests=tuple(sorted((f.platform, f.config_digest) for f in facts)),
        dockerfile=cfg.build.dockerfile,
        platforms=tuple(p for p in built.platforms if p),
        image=image_name,
    )
    gate_input = build_input(
        findings,
        sbom=sbom_summary,
        facts=as_scanned(facts, image_runs),  # the digests trivy scanned, against build_facts' built ones
        build=build_facts,
        config=gate_config_from(cfg.gate, relaxations=cfg.relaxations(), source=cfg.source_file),
        exceptions=exceptions,
        today=today,
        runs=source_runs,
        dev=dev_install(dockerfile_text, path=cfg.build.dockerfile),
    )
    input_text = gate_input_text(gate_input)
    verdict = await gate_stage.evaluate_built(gate_input, input_text, user_policies=user_policies)
    logger.info("gate decided", passed=verdict.passed, denials=len(verdict.denials))

    # for trivy users outside Seaworthy: the same exceptions as trivy's ignore file, with the real findings
    ignore_text = render_trivyignore(exceptions, findings=findings, today=today, image=image_name)
    vex = openvex.render_openvex(exceptions, findings=findings, product=image_name, timestamp=started, image=image_name)
    notes = list(openvex.left_out(exceptions, findings, today=today, image=image_name))
    files: dict[str, bytes | str] = dict(
        report_stage.render(
            runs,
            findings,
            verdict=verdict,
            image=facts[0] if facts else None,
            sboms=(sbom_summary,),
            notes=notes,
            dockerfile=cfg.build.dockerfile,
            started=started,
            scanned_image=f"{image_name}:{plan.tag}",
            operating_system=gitlab.operating_system_of(cdx_text),
            commit_sha=plan.revision,
        )
    )
    files.update(
        {
            "gate-input.json": input_text,
            "sbom.cdx.json": cdx_text,
            "sbom.spdx.json": spdx_text,
            "sbom-source.cdx.json": source_sbom,
            "openvex.json": report_stage.dumps(vex),
            "trivyignore.yaml": ignore_text,
            "facts.json": report_stage.facts_json(facts),
            "verdict.json": report_stage.verdict_json(verdict),
        }
    )
    config_digests = tuple(f.config_digest for f in facts)
    summary = files["summary.md"]
    text = summary.decode() if isinstance(summary, bytes) else summary
    if not verdict.passed:
        denied = ", ".join(r.rule_id for r in verdict.denials)
        message = (
            f"the policy gate denied the release ({denied}); nothing was published. Fix the reasons below or "
            f"record a reviewed exception (owner, reason, expiry) in seaworthy.toml.\n\n{text}"
        )
        return ShipOutcome(
            verdict,
            report_stage.directory(files),
            message,
            config_digests=config_digests,
            sbom=report_stage.sbom_directory(pair),
            summary=text,
        )

    # --- release: only after a pass -----------------------------------------------------------------
    own = release.ephemeral_registry(f"seaworthy-registry-{uuid.uuid4().hex}") if plan.ephemeral else None
    if own is not None:
        own = await own.start()
    service = own or plan.service
    try:
        target = release.Target.parse(
            plan.repository or registry.DEFAULT_REPOSITORY,
            plan.tag,
            username=plan.username,
            password=plan.password,
            insecure=plan.insecure,
            service=service,
        )
        expected = {f.platform if len(facts) > 1 else "": f.config_digest for f in facts}
        pushed = await release.publish(built.tarball, built.platforms, target, expected=expected)
        logger.info("published", ref=pushed.ref)
        signing = plan.signing
        public_key: dagger.File | None = None
        if signing.generate_key:
            key_secrets, public_key = await release.generated_key_pair()
            signing = attrs.evolve(signing, secrets=key_secrets, generate_key=False)
        elif signing.signer.mode is not cosign.SigningMode.KEYLESS:
            public_key = await release.public_key_of(signing)
        access = target.access
        await release.sign(pushed.ref, signing, access, recursive=len(built.platforms) > 1)

        # what decided, by content (bundled + user folders), not by the folder's name
        policy_digest = await gate_stage.policy_digest(user_policies)
        finished = datetime.now(UTC)
        build_record = intoto.BuildRecord(
            source_repository=plan.source_repository or "https://example.invalid/unknown-source",
            source_revision=plan.revision,
            builder_id="https://github.com/seaworthy-dev/seaworthy/ship@v" + release.__version__,
            invocation_id=f"urn:uuid:{uuid.uuid4()}",
            started_on=started,
            finished_on=finished,
            dockerfile=cfg.build.dockerfile,
            target=cfg.build.target,
            build_args=cfg.build.build_args,
            platforms=tuple(p for p in built.platforms if p) or tuple(f.platform for f in facts),
            tool_images=tuple(sorted(release.tool_images().items())),
            # every platform's config digest (the byproduct names the first; multi-platform builds list all)
            internal_parameters=tuple(sorted((f"imageConfigDigest:{f.platform}", f.config_digest) for f in facts)),
        )
        scan_record = intoto.ScanRecord(
            scanner="trivy",
            version=trivy.VERSION,
            started_on=started,
            finished_on=finished,
            scanner_uri="pkg:github/aquasecurity/trivy@v" + trivy.VERSION,
        )
        predicates: list[tuple[str, str, dict[str, object]]] = [
            ("sbom.cdx.json", intoto.CYCLONEDX_BOM, json.loads(cdx_text)),
            ("sbom.spdx.json", intoto.SPDX_DOCUMENT, json.loads(spdx_text)),
            (
                "vuln.json",
                intoto.COSIGN_VULN_V1,
                intoto.vuln_predicate(scan_record, intoto.findings_summary(findings)),
            ),
            (
                "provenance.json",
                intoto.SLSA_PROVENANCE_V1,
                intoto.slsa_provenance_predicate(build_record, facts[0]),
            ),
            (
                "verdict-predicate.json",
                intoto.VERDICT_V1,
                intoto.verdict_predicate(
                    verdict,
                    policy_digest=policy_digest,
                    input_digest=_sha256(input_text),
                ),
            ),
        ]
        for name, ptype, predicate in predicates:
            await release.attest(pushed.ref, release.predicate_file(name, predicate), ptype, signing, access)
        verifier = release.Verifying(
            public_key=public_key,
            kms_key=signing.signer.kms_key,
            kms_credentials=signing.kms_credentials,
            identity=plan.verify_identity,
            issuer=plan.verify_issuer,
            tlog=signing.tlog,
        )
        verification = await release.verify(
            pushed.ref,
            verifier,
            access,
            max_vuln_age_hours=24,
            expected_config_digest=facts[0].config_digest if len(facts) == 1 else "",
        )
        files["verification.json"] = verification
        files["published.json"] = report_stage.dumps(
            {"ref": target.public(pushed.ref), "digest": pushed.digest, "config_digests": dict(pushed.config_digests)}
        )
        return ShipOutcome(
            verdict,
            report_stage.directory(files),
            "",
            target.public(pushed.ref),
            config_digests=config_digests,
            sbom=report_stage.sbom_directory(pair),
            summary=text,
        )
    finally:
        if own is not None:
            await own.stop()


__all__ = ["Plan", "ShipOutcome", "ship"]
