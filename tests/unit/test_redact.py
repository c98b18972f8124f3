"""pipeline.formats.redact: which rules are about secrets, what is scrubbed, what is neutralised."""

from __future__ import annotations

import pytest

from pipeline.formats.redact import (
    REDACTED,
    Scrubber,
    interpolated_values,
    is_secret_rule,
    looks_like_credential,
    neutralize,
    scrub_values,
)
from pipeline.model import Category, Finding, Location, Package, Severity


@pytest.mark.parametrize(
    ("category", "rule_id", "tags", "props", "expected"),
    [
        (Category.SECRET, "anything", (), {}, True),
        (Category.SAST, "acme.check", ("CWE-798: Use of Hard-coded Credentials",), {}, True),
        (Category.SAST, "acme.check", ("cwe-259",), {}, True),
        (Category.SAST, "acme.check", (), {"cwe": ["CWE-321: Use of Hard-coded Cryptographic Key"]}, True),
        (Category.SAST, "acme.check", ("Secrets",), {}, True),
        (Category.SAST, "acme.db-password-in-url", (), {}, True),
        (Category.SAST, "python.jwt.hardcoded_token", (), {}, True),
        (Category.SAST, "acme.check", ("CWE-78: OS Command Injection", "security"), {}, False),
        (Category.SAST, "acme.secretary-api", (), {}, False),  # a word, not a segment word
        (Category.DEPENDENCY, "CVE-2018-18074", ("CWE-522",), {}, False),  # an advisory quotes nothing
        (Category.IMAGE_VULNERABILITY, "CVE-1", ("secrets",), {}, False),
    ],
)
def test_is_secret_rule(
    category: Category, rule_id: str, tags: tuple[str, ...], props: dict[str, object], expected: bool
) -> None:
    assert is_secret_rule(category, rule_id, tags, props) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5", True),
        ("AKIAQYLPMN5HHHFPZAM2", True),
        ("API_TOKEN", False),
        ("print", False),
        ("sha256:" + "ab" * 32, False),
        ("0123456789abcdef0123456789abcdef01234567", False),  # a commit id
        ("123e4567-e89b-12d3-a456-426614174000", False),
        ("aaaaaaaaaaaaaaaaaaaaaaaa1", False),  # long but no entropy
        ("two words here and 123456", False),
    ],
)
def test_looks_like_credential(value: str, expected: bool) -> None:
    assert looks_like_credential(value) is expected


@pytest.mark.parametrize(
    ("template", "message", "expected"),
    [
        ("token $VAL in $NAME", "token abc123 in API_KEY", ["abc123", "API_KEY"]),
        ("token $VAL", "token with spaces in it", ["with spaces in it"]),
        ("no variables", "no variables", []),
        ("no variables", "something else", None),
        ("token $VAL.", "a different message", None),
        ("regex chars (.*) $X", "regex chars (.*) y", ["y"]),
    ],
)
def test_interpolated_values(template: str, message: str, expected: list[str] | None) -> None:
    assert interpolated_values(template, message) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text", "plain text"),
        ("tab\tand\nnewline kept", "tab\tand\nnewline kept"),
        ("if admin\u202e } \u2066", "if admin[U+202E] } [U+2066]"),
        ("\x1b[31mred", "[U+001B][31mred"),
        ("lone \ud800", "lone \ufffd"),
        ("zero\u200bwidth", "zero[U+200B]width"),
        ("emoji 🚢 and ü stay", "emoji 🚢 and ü stay"),
    ],
)
def test_neutralize(text: str, expected: str) -> None:
    assert neutralize(text) == expected


def test_scrub_values_keep_long_ones_longest_first_and_unquoted() -> None:
    assert scrub_values(["abc", '"secret-value-1"', "secret-value-1-longer"]) == (
        "secret-value-1-longer",
        '"secret-value-1"',
        "secret-value-1",
    )


def test_scrubber_cleans_every_field_and_keeps_the_fingerprint() -> None:
    value = "s3cr3t-V4lue-XYZ"
    f = Finding(
        category=Category.SAST,
        rule_id=f"rule-{value}",
        severity=Severity.HIGH,
        message=f"found {value}",
        tools=("t",),
        locations=(Location(f"dir/{value}.txt", 1),),
        package=Package(name=value, version="1"),
        title=f"title {value}",
        help_uri=f"https://x/{value}",
        tags=(value,),
    )
    g = Scrubber((value,)).finding(f)
    assert value not in repr(g)
    assert g.message == f"found {REDACTED}"
    assert g.fingerprint == f.fingerprint
    assert repr(Scrubber((value,))) == "Scrubber(1 values)"


def test_a_scrubber_without_values_returns_clean_findings_unchanged() -> None:
    f = Finding(category=Category.SAST, rule_id="r", severity=Severity.LOW, message="m\nok", tools=("t",))
    assert Scrubber(()).findings([f])[0] is f


def test_credential_tokens_are_the_credential_shaped_words_of_a_message() -> None:
    from pipeline.formats.redact import credential_tokens

    token = "ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"
    assert credential_tokens(f'API_TOKEN = "{token}" (line 3)') == [token]
    assert credential_tokens("a plain message about print(1)") == []
    assert credential_tokens("sha256:" + "ab" * 32) == []  # a digest names data, it opens nothing
