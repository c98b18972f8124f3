"""End-to-end calls of the modules under modules/ (seaworthy-scan, -sbom, -gate, -publish, -sign).

Each module is a dependency of this test module (tests/dagger/dagger.json), called through its generated
binding exactly as a user's pipeline would (`dag.seaworthy_scan()`…), with the caller's own objects: a source
directory, a container it pulled, a gate input file. Nothing is mocked. The scan module must agree with the
root module on the same source (same findings, same verdict): one core, two front doors.

`module_cases(bad)` returns the cases by name; main.py's `all` runs them with its own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable

import dagger
from dagger import dag

TODAY = "2026-11-27"
ALPINE = "alpine:3.22"
COSIGN = "ghcr.io/sigstore/cosign/cosign:v3.1.2"  # a throwaway key pair only; the modules pin their own images


class ModuleCaseFailed(Exception):
    pass


def check(cond: bool, message: str) -> None:
    if not cond:
        raise ModuleCaseFailed(message)


async def expect_failure(call: Awaitable[object], *needles: str) -> str:
    try:
        await call
    except dagger.QueryError as exc:
        text = str(exc)
        for needle in needles:
            check(needle in text, f"the failure does not say {needle!r}: {text[:2000]}")
        return text
    raise ModuleCaseFailed(f"expected a failure naming {needles}, but the call succeeded")


def registry_service(case: str, *, user: str = "", password: str = "") -> dagger.Service:
    """A plain-HTTP registry of this case only (basic auth when `user` is given), reached as localhost:5000
    through with_registry_service."""
    ctr = (
        dag.container()
        .from_("registry:3.1.1")
        .with_mounted_cache("/var/lib/registry", dag.cache_volume(f"e2e-modules-{case}-{uuid.uuid4().hex}"))
        .with_exposed_port(5000)
    )
    if user:
        htpasswd = (
            dag.container()
            .from_("httpd:2.4-alpine")
            .with_exec(["htpasswd", "-Bbn", user, password], redirect_stdout="/tmp/htpasswd")
            .file("/tmp/htpasswd")
        )
        ctr = (
            ctr.with_mounted_file("/auth/htpasswd", htpasswd)
            .with_env_variable("REGISTRY_AUTH", "htpasswd")
            .with_env_variable("REGISTRY_AUTH_HTPASSWD_REALM", "e2e")
            .with_env_variable("REGISTRY_AUTH_HTPASSWD_PATH", "/auth/htpasswd")
        )
    return ctr.as_service(use_entrypoint=True)


async def throwaway_keys() -> tuple[dagger.Secret, dagger.File]:
    gen = (
        dag.container()
        .from_(COSIGN)
        .with_env_variable("COSIGN_PASSWORD", "")
        .with_workdir("/tmp")
        .with_exec(["cosign", "generate-key-pair"])
    )
    private = await gen.file("/tmp/cosign.key").contents()
    return dag.set_secret(f"e2e-modules-key-{uuid.uuid4().hex}", private), gen.file("/tmp/cosign.pub")


async def scan_module_gates_the_bad_project_like_the_root(bad: dagger.Directory) -> str:
    """seaworthy-scan on the bad project: findings, a failed verdict with reasons, the reports; the same
    count and verdict as the root module's `scan` on the same source and date."""
    result = dag.seaworthy_scan().scan(bad, today=TODAY)
    count = await result.count()
    check(count > 0, "the scan module found nothing in the bad project")
    check(await result.passed() is False, "the bad project passed the scan module's gate")
    verdict = json.loads(await result.verdict())
    check(verdict["passed"] is False and verdict["denials"], f"verdict: {verdict}")
    names = set(await result.reports().entries())
    for needed in ("seaworthy.sarif", "junit.xml", "summary.md", "report.json", "gate-input.json", "verdict.json"):
        check(needed in names, f"the scan module's reports lack {needed}: {sorted(names)}")
    root = dag.seaworthy().scan(source=bad, today=TODAY, strict=False)
    check(await root.count() == count, "the scan module and the root module disagree on the findings")
    check(json.loads(await root.verdict())["denials"] == verdict["denials"], "they disagree on the verdict")
    ungated = dag.seaworthy_scan().scan(bad, gated=False)
    check(await ungated.verdict() == "" and await ungated.passed() is True, "an ungated scan carries a verdict")
    await expect_failure(dag.seaworthy_scan().scan(bad, today="27/11/2026").count(), "--today")
    return f"{count} findings"


async def sbom_module_describes_a_pulled_container() -> str:
    """seaworthy-sbom on a container the caller pulled: both SBOMs, the image facts, an image scan."""
    ctr = dag.container().from_(ALPINE)
    mod = dag.seaworthy_sbom()
    sboms = mod.sbom(ctr)
    cdx = json.loads(await sboms.file("sbom.cdx.json").contents())
    spdx = json.loads(await sboms.file("sbom.spdx.json").contents())
    check(cdx["bomFormat"] == "CycloneDX" and cdx["specVersion"] == "1.6", "not CycloneDX 1.6")
    check(spdx["spdxVersion"] == "SPDX-2.3", "not SPDX 2.3")
    check(any("alpine" in (c.get("name") or "") for c in cdx.get("components", [])), "alpine not described")
    syft = json.loads(await mod.sbom(ctr, generator="syft").file("sbom.cdx.json").contents())
    check(syft["components"], "syft described nothing")
    await expect_failure(mod.sbom(ctr, generator="nope").entries(), "nope")
    facts = json.loads(await mod.facts(ctr))
    check(isinstance(facts, list) and facts, f"facts: {facts}")
    scanned = mod.scan(ctr)
    check(await scanned.count() >= 0, "no count")
    check("seaworthy.sarif" in await scanned.reports().entries(), "the image scan wrote no SARIF")
    return "ok"


async def gate_module_reevaluates_the_scan_modules_input(bad: dagger.Directory) -> str:
    """seaworthy-gate over the gate input the scan module wrote: the same denials, as reasons."""
    scanned = dag.seaworthy_scan().scan(bad, today=TODAY)
    expected = json.loads(await scanned.verdict())["denials"]
    result = dag.seaworthy_gate().gate(scanned.reports().file("gate-input.json"))
    check(await result.passed() is False, "the gate module passed the bad project's input")
    reasons = await result.reasons()
    check(sorted(reasons) == sorted(f"{d['rule_id']}: {d['message']}" for d in expected), f"reasons: {reasons}")
    check(json.loads(await result.verdict())["passed"] is False, "verdict JSON")
    check(bool(await result.summary()), "no summary")
    junk = dag.directory().with_new_file("gate-input.json", "{}").file("gate-input.json")
    await expect_failure(dag.seaworthy_gate().gate(junk).passed(), "--input")
    return f"{len(reasons)} reasons"


async def publish_and_sign_modules_release_a_pulled_container() -> str:
    """seaworthy-publish pushes a pulled container to the case's registry (basic auth: refused without
    with_registry_auth); seaworthy-sign signs it, attests an SBOM from seaworthy-sbom, and verifies both; an
    unsigned image fails verification."""
    registry = registry_service("release", user="ab", password="e2e-password")
    password = dag.set_secret("e2e-modules-registry-password", "e2e-password")
    ctr = dag.container().from_(ALPINE)
    anonymous = dag.seaworthy_publish().with_registry_service(registry).with_insecure_registry("localhost:5000")
    await expect_failure(anonymous.publish(ctr, "localhost:5000/e2e/anonymous"))
    publisher = anonymous.with_registry_auth("localhost:5000", "ab", password)
    ref = await publisher.publish(ctr, "localhost:5000/e2e/modules", tag="1")
    check("@sha256:" in ref and ref.startswith("localhost:5000/e2e/modules"), f"not by digest: {ref}")
    key, public = await throwaway_keys()
    signer = (
        dag.seaworthy_sign()
        .with_registry_service(registry)
        .with_insecure_registry("localhost:5000")
        .with_registry_auth("localhost:5000", "ab", password)
        .with_cosign_key(key, tlog=False)
    )
    check(await signer.sign(ref) == ref, "sign did not return the reference")
    sbom = dag.seaworthy_sbom().sbom(ctr).file("sbom.cdx.json")
    await signer.attest(ref, sbom, "cyclonedx")
    report = json.loads(await signer.verify(ref, public_key=public, require=["sbom"], tlog=False))
    check(report["passed"] is True, f"verification: {report}")
    unsigned = await publisher.publish(dag.container().from_(ALPINE).with_label("x", "1"), "localhost:5000/e2e/u")
    await expect_failure(signer.verify(unsigned, public_key=public, require=["sbom"], tlog=False), "signature")
    await expect_failure(signer.with_kms("awskms:///alias/x").sign(ref), "chain one way to sign")
    await expect_failure(dag.seaworthy_sign().with_registry_service(registry).sign(ref), "no way to sign")
    await expect_failure(dag.seaworthy_sign().with_keyless().sign(ref), "needs an OIDC token")
    await expect_failure(publisher.publish(ctr, "localhost:5000/e2e/x:tag"), "--tag")
    return ref


def text_file(name: str, text: str) -> dagger.File:
    return dag.directory().with_new_file(name, text).file(name)


ALWAYS_DENY = (
    "package seaworthy.rules.e2e_modules\n\nimport rego.v1\n\n"
    'deny contains data.seaworthy.lib.reason("e2e.always", "always denied", "Nothing to do.", []) if { true }\n'
)


async def scan_and_gate_modules_take_their_chained_configuration(bad: dagger.Directory) -> str:
    """with_config narrows the scanners, with_policy adds a rule to the verdict (scan and gate modules alike),
    with_exceptions reads the caller's exception file (a wrong one fails naming it)."""
    only_gitleaks = text_file("seaworthy.toml", '[scan]\nscanners = ["gitleaks"]\n')
    scanned = dag.seaworthy_scan().with_config(only_gitleaks).scan(bad, today=TODAY)
    findings = json.loads(await scanned.findings())
    check(findings and all(f["tools"] == ["gitleaks"] for f in findings), "with_config did not narrow the scanners")
    policy = dag.directory().with_new_file("e2e.rego", ALWAYS_DENY)
    ids = {
        d["rule_id"] for d in json.loads(await dag.seaworthy_scan().with_policy(policy).scan(bad).verdict())["denials"]
    }
    check("e2e.always" in ids, f"with_policy's rule is not in the scan verdict: {sorted(ids)}")
    gate_input = scanned.reports().file("gate-input.json")
    reasons = await dag.seaworthy_gate().with_policy(policy).gate(gate_input).reasons()
    check(any(r.startswith("e2e.always: ") for r in reasons), f"with_policy's rule is not a gate reason: {reasons}")
    wrong = text_file("waivers.toml", "[scan]\nscanners = []\n")
    await expect_failure(dag.seaworthy_scan().with_exceptions(wrong).scan(bad, today=TODAY).count(), "waivers.toml")
    syft = text_file("seaworthy.toml", '[sbom]\ngenerator = "syft"\n')
    cdx = (
        await dag.seaworthy_sbom()
        .with_config(syft)
        .sbom(dag.container().from_(ALPINE))
        .file("sbom.cdx.json")
        .contents()
    )
    check("syft" in cdx.lower(), "with_config's sbom generator was not used")
    return "ok"


def module_cases(bad: dagger.Directory) -> dict[str, Callable[[], Awaitable[str]]]:
    """Every modules/ case by name, for main.py's `all`."""
    return {
        "module_scan": lambda: scan_module_gates_the_bad_project_like_the_root(bad),
        "module_sbom": sbom_module_describes_a_pulled_container,
        "module_gate": lambda: gate_module_reevaluates_the_scan_modules_input(bad),
        "module_release": publish_and_sign_modules_release_a_pulled_container,
        "module_chains": lambda: scan_and_gate_modules_take_their_chained_configuration(bad),
    }
