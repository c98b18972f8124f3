"""Engine-free checks of pipeline.api: registries, names and dates from user input, configuration merging.

The Dagger objects are lazy query chains (no engine runs here); the engine's answers for a source tree are
stubbed at the leaves (`exists`, `contents`), as in test_module.py.
"""

from __future__ import annotations

import datetime

import dagger
import pytest
from dagger import dag

from pipeline import api
from pipeline.errors import ConfigError, InputError
from pipeline.model import Decision, Reason, ToolRun, Verdict
from pipeline.tools import registry as registry_tool

DIGEST = "sha256:" + "a" * 64


def _secret(name: str) -> dagger.Secret:
    return dag.set_secret(name, "value-" + name)


# --- registries -----------------------------------------------------------------------------------------


def test_for_ref_picks_the_auth_of_the_refs_registry_host() -> None:
    ghcr, quay = _secret("ghcr"), _secret("quay")
    regs = api.Registries().with_auth("ghcr.io", "me", ghcr).with_auth("quay.io", "robot", quay)
    access = regs.for_ref(f"ghcr.io/me/app@{DIGEST}")
    assert (access.username, access.password) == ("me", ghcr)
    access = regs.for_ref("quay.io/team/app:1")
    assert (access.username, access.password) == ("robot", quay)
    anon = regs.for_ref("registry.example.com:5000/app:1")
    assert (anon.username, anon.password, anon.insecure, anon.service) == ("", None, False, None)


@pytest.mark.parametrize(
    "address", ["docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"]
)
@pytest.mark.parametrize(
    "ref",
    ["alpine:3.22", "docker.io/library/alpine", "index.docker.io/me/app", "registry-1.docker.io/me/app", "me/app"],
)
def test_docker_hub_auth_matches_every_alias_of_docker_hub(address: str, ref: str) -> None:
    secret = _secret("hub")
    access = api.Registries().with_auth(address, "me", secret).for_ref(ref)
    assert access.password is secret and access.username == "me"


def test_the_same_address_replaces_the_earlier_auth_and_others_are_kept() -> None:
    first, second, other = _secret("a"), _secret("b"), _secret("c")
    regs = api.Registries().with_auth("GHCR.io", "old", first).with_auth("quay.io", "q", other)
    regs2 = regs.with_auth("https://ghcr.io/", "new", second)
    assert [a[0] for a in regs2.auths] == ["quay.io", "ghcr.io"]
    assert regs2.for_ref("ghcr.io/x/y:1").username == "new"
    assert regs.for_ref("ghcr.io/x/y:1").username == "old"  # the earlier value is unchanged


def test_a_port_is_part_of_the_address() -> None:
    secret = _secret("p")
    regs = api.Registries().with_auth("registry.example.com:5000", "me", secret)
    assert regs.for_ref("registry.example.com:5000/app:1").password is secret
    assert regs.for_ref("registry.example.com/app:1").password is None


@pytest.mark.parametrize("address", ["", "ghcr.io/org", "ghcr .io", "user@ghcr.io", "ghcr.io:port"])
def test_a_bad_address_is_one_line_naming_it(address: str) -> None:
    with pytest.raises(InputError, match=r"--address .* is not a registry address; give the host") as info:
        api.registry_address(address)
    assert "\n" not in str(info.value)


def test_an_empty_username_is_refused() -> None:
    with pytest.raises(InputError, match=r"--username is empty for registry ghcr\.io"):
        api.Registries().with_auth("ghcr.io", " ", _secret("x"))


def test_insecure_hosts_and_the_callers_service() -> None:
    service = dag.container().as_service()
    regs = api.Registries().with_insecure("Registry.Local:5000").with_service(service)
    assert regs.for_ref("registry.local:5000/app:1").insecure
    assert not regs.for_ref("ghcr.io/app/x:1").insecure
    local = regs.for_ref("localhost:5000/team/app:1")
    assert local.service is service
    assert regs.for_ref(f"{registry_tool.ALIAS}:5000/team/app@{DIGEST}").service is service
    assert regs.for_ref("ghcr.io/org/app:1").service is None  # a public registry is not the caller's service


def test_the_auth_for_localhost_applies_to_the_service() -> None:
    secret = _secret("l")
    regs = api.Registries().with_auth("localhost:5000", "me", secret).with_service(dag.container().as_service())
    assert regs.for_ref("localhost:5000/team/app:1").password is secret


# --- names from user input ------------------------------------------------------------------------------


def test_a_mixed_case_repository_is_lower_cased() -> None:
    assert api.repository_name("ghcr.io/Octo-Org/My-App") == "ghcr.io/octo-org/my-app"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ghcr.io/${{ github.repository }}", "a CI variable that was not expanded"),
        ("ghcr.io//app", "empty path component"),
        ("$CI_REGISTRY_IMAGE", "a CI variable that was not expanded"),
        ("", "--repository is empty"),
    ],
)
def test_a_repository_with_ci_leftovers_is_refused_in_one_line(value: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        api.repository_name(value)
    assert "\n" not in str(info.value)


def test_an_image_ref_is_lower_cased_and_keeps_its_digest() -> None:
    assert api.image_ref(f"ghcr.io/Org/App@{DIGEST}") == f"ghcr.io/org/app@{DIGEST}"
    with pytest.raises(InputError, match="--ref is empty"):
        api.image_ref(" ")


@pytest.mark.anyio
async def test_publish_refuses_a_bad_repository_before_anything_runs() -> None:
    built = api.image(dag.container())
    with pytest.raises(InputError, match="carries a tag; give the tag with --tag"):
        await api.publish(built, "ghcr.io/org/app:1.0", "latest", api.Registries())
    with pytest.raises(InputError, match="not expanded"):
        await api.publish(built, "ghcr.io/$OWNER/app", "latest", api.Registries())


def test_plan_takes_the_credentials_of_the_repositorys_registry() -> None:
    secret = _secret("g")
    regs = api.Registries().with_auth("ghcr.io", "me", secret).with_auth("quay.io", "other", _secret("q"))
    signing = api.Signing.from_args(key=_secret("key"))
    plan = api.plan("ghcr.io/Me/App", "v1", regs, signing)
    assert (plan.repository, plan.username, plan.password) == ("ghcr.io/me/app", "me", secret)
    eph = api.plan("", "latest", regs, api.Signing.from_args(ephemeral=True))
    assert eph.ephemeral and eph.password is None


def test_a_registry_service_without_a_repository_is_refused() -> None:
    regs = api.Registries().with_service(dag.container().as_service())
    with pytest.raises(InputError, match="with-registry-service needs --repository"):
        api.plan("", "latest", regs, api.Signing.from_args(ephemeral=True))


# --- dates, scanners, secrets ---------------------------------------------------------------------------


def test_today() -> None:
    assert api.today("2026-11-27") == datetime.date(2026, 11, 27)
    assert api.today() == datetime.datetime.now(datetime.UTC).date()
    with pytest.raises(InputError, match=r"--today '27/11/2026' is not a date; write it as YYYY-MM-DD"):
        api.today("27/11/2026")


def test_unknown_scanner_names_the_input() -> None:
    assert api.check_scanners(["trivy", "semgrep"]) == ("trivy", "semgrep")
    with pytest.raises(InputError, match=r"--scanners: unknown scanner 'grype'; use any of semgrep"):
        api.check_scanners(["grype"])


def test_secret_ids() -> None:
    assert api.check_secret_id("npm.token_1-x") == "npm.token_1-x"
    with pytest.raises(InputError, match="is not a Dockerfile secret id"):
        api.check_secret_id("npm token")


# --- results ---------------------------------------------------------------------------------------------


def test_scanned_reports_and_verdict() -> None:
    run = ToolRun(tool="semgrep", version="1", findings=())
    plain = api.scanned((run,))
    # an ungated scan decided nothing: it is not gated and it did not pass
    assert not plain.gated and not plain.passed and plain.verdict is None
    assert plain.summary.startswith("## Seaworthy: not gated\n")
    assert {"summary.md", "report.json", "junit.xml", "seaworthy.sarif"} <= set(plain.files)
    assert plain.findings_json() == "[]\n"
    denied = Verdict(passed=False, denials=(Reason("secrets.found", Decision.DENY, "a secret is committed"),))
    gated = api.scanned((run,), denied, {"verdict.json": api.verdict_json(denied)})
    assert gated.gated and not gated.passed and "verdict.json" in gated.files
    assert api.scanned((run,), Verdict(passed=True)).passed
    assert api.reasons(denied) == ["secrets.found: a secret is committed"]


# --- configuration ---------------------------------------------------------------------------------------


def _stub_source(monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> dagger.Directory:
    async def exists(self: dagger.Directory, path: str, **_: object) -> bool:
        return path in files

    async def contents(self: dagger.File, **_: object) -> str:
        path = [s for s in self._ctx.selections if s.name == "file"][-1].args["path"]  # pyright: ignore[reportPrivateUsage, reportAttributeAccessIssue]
        return files[path]

    async def name(self: dagger.File, **_: object) -> str:
        return [s for s in self._ctx.selections if s.name == "file"][-1].args["path"]  # pyright: ignore[reportPrivateUsage, reportAttributeAccessIssue]

    monkeypatch.setattr(dagger.Directory, "exists", exists)
    monkeypatch.setattr(dagger.File, "contents", contents)
    monkeypatch.setattr(dagger.File, "name", name)
    return dag.directory()


EXCEPTION = """
[[exceptions]]
target = "CVE-2026-0001"
owner = "sec@example.com"
reason = "not reachable"
expires = 2026-12-31
"""


@pytest.mark.anyio
async def test_load_config_puts_arguments_over_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    toml = '[scan]\nscanners = ["trivy"]\nskip_paths = ["a/**"]\n[build]\nbuild_args = { A = "1", B = "2" }\n'
    src = _stub_source(monkeypatch, {"seaworthy.toml": toml, "ci/Dockerfile": "FROM scratch\n"})
    cfg = await api.load_config(src)
    assert cfg.scanners == ("trivy",)
    cfg = await api.load_config(
        src,
        scanners=["semgrep"],
        skip=["b/**"],
        dockerfile="ci/Dockerfile",
        target="prod",
        build_args={"B": "3"},
        platforms=["linux/arm64"],
    )
    assert cfg.scanners == ("semgrep",)
    assert cfg.skip_paths == ("a/**", "b/**")
    assert cfg.build.dockerfile == "ci/Dockerfile" and cfg.build.target == "prod"
    assert cfg.build.build_args == (("A", "1"), ("B", "3"))
    assert cfg.build.platforms == ("linux/arm64",)
    with pytest.raises(InputError, match="unknown scanner"):
        await api.load_config(src, scanners=["grype"])


@pytest.mark.anyio
async def test_an_exception_file_replaces_the_configured_one(monkeypatch: pytest.MonkeyPatch) -> None:
    toml = '[gate]\nexceptions_file = "old.toml"\n'
    src = _stub_source(monkeypatch, {"seaworthy.toml": toml, "mine.toml": EXCEPTION, "bad.toml": "[x]\n"})
    cfg = await api.load_config(src, exceptions=src.file("mine.toml"))
    assert cfg.gate.exceptions_file == ""
    assert [e["target"] for e in cfg.exceptions] == ["CVE-2026-0001"]
    with pytest.raises(ConfigError, match=r"bad\.toml: unexpected top-level key"):
        await api.load_config(src, exceptions=src.file("bad.toml"))


def test_an_insecure_release_registry_is_a_relaxation_the_verdict_shows() -> None:
    from pipeline.config import Config
    from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
    from pipeline.policy.verdict import read_verdict
    from pipeline.stages.scan_gate import source_gate_input

    regs = api.Registries().with_insecure("registry.local:5000")
    signing = api.Signing.from_args(key=_secret("k"))
    insecure = api.plan("registry.local:5000/team/app", "1", regs, signing)
    secure = api.plan("ghcr.io/team/app", "1", regs, signing)
    assert api.transport_relaxed(Config(), secure) == Config()
    cfg = api.transport_relaxed(Config(), insecure)
    ((key, what),) = cfg.relaxations()
    assert key == "with-insecure-registry" and what.startswith("registry.local:5000 is reached over plain HTTP")
    doc = source_gate_input((), (), cfg, exceptions=(), today=datetime.date(2026, 6, 1), dockerfile_text=None)
    verdict = read_verdict(evaluate_with_regorus([BUNDLED_POLICY_DIR], doc))
    relaxed = [r for r in verdict.warnings if r.rule_id == "config.relaxed"]
    assert any("with-insecure-registry" in r.message for r in relaxed), verdict.warnings
