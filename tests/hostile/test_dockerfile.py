"""Hostile Dockerfiles for the base-image pin (issue 8): a digest that arrives through ARGs is pinned (no
false deny); anything the reader cannot resolve is unpinned (fail closed), never pinned."""

from __future__ import annotations

import random

import pytest

from pipeline.errors import InputError
from pipeline.formats.dockerfile import final_base
from pipeline.model import BasePin
from tests.policy_helpers import evaluate, good_build, good_image, ids

HEX = "ab" * 32
D = f"sha256:{HEX}"
D512 = f"sha512:{'cd' * 64}"


@pytest.mark.parametrize(
    ("text", "build_args", "ref", "pin"),
    [
        # the digest through an ARG: pinned
        (f"ARG D={D}\nFROM python@${{D}}\n", {}, f"python@{D}", BasePin.DIGEST),
        (f"ARG D={D}\nFROM python@$D\n", {}, f"python@{D}", BasePin.DIGEST),
        (f"ARG D={D}\nFROM python:3.12-slim@${{D}}\n", {}, f"python:3.12-slim@{D}", BasePin.DIGEST),
        (f'ARG D="{D}"\nFROM python@${{D}}\n', {}, f"python@{D}", BasePin.DIGEST),
        (f"ARG D\nFROM python@${{D:-{D}}}\n", {}, f"python@{D}", BasePin.DIGEST),
        (f"ARG D\nFROM python@${{D-{D}}}\n", {}, f"python@{D}", BasePin.DIGEST),
        (f"ARG D={D}\nFROM python@${{D:?set D}}\n", {}, f"python@{D}", BasePin.DIGEST),
        (f"ARG ALG=sha256\nARG D=${{ALG}}:{HEX}\nFROM python@${{D}}\n", {}, f"python@{D}", BasePin.DIGEST),
        (f"ARG IMG=python:3.12@{D}\nFROM ${{IMG}}\n", {}, f"python:3.12@{D}", BasePin.DIGEST),
        (f"arg D={D}\nfrom python@${{D}}\n", {}, f"python@{D}", BasePin.DIGEST),
        (f"ARG D={D}\r\nFROM python@${{D}}\r\n", {}, f"python@{D}", BasePin.DIGEST),
        (f"ARG D={D}\nFROM \\\n  python@${{D}}\n", {}, f"python@{D}", BasePin.DIGEST),
        (f"# escape=`\nARG D={D}\nFROM `\n  python@${{D}}\n", {}, f"python@{D}", BasePin.DIGEST),
        (f"ARG D={D512}\nFROM python@${{D}}\n", {}, f"python@{D512}", BasePin.DIGEST),
        # build arguments override the ARG
        ("ARG D\nFROM python@${D}\n", {"D": D}, f"python@{D}", BasePin.DIGEST),
        ("ARG D=sha256:00\nFROM python@${D}\n", {"D": D}, f"python@{D}", BasePin.DIGEST),
        (f"ARG D={D}\nFROM python@${{D}}\n", {"D": "latest"}, "python@latest", BasePin.NONE),
        # unresolved or malformed: unpinned
        ("ARG D\nFROM python@${D}\n", {}, "python@", BasePin.NONE),
        ("ARG D\nFROM python:3.12@${D}\n", {}, "python:3.12@", BasePin.NONE),
        ("ARG D=\nFROM python@${D-sha256:" + HEX + "}\n", {}, "python@", BasePin.NONE),
        ("ARG D\nFROM python@${D:?required}\n", {}, "python@${D:?required}", BasePin.NONE),
        ("FROM python@${D}\n", {"D": D}, "python@", BasePin.NONE),  # never declared: build args do not reach FROM
        (f"FROM alpine:3.20 AS a\nARG D={D}\nFROM python@${{D}}\n", {}, "python@", BasePin.NONE),
        (f"ARG D={D}\nFROM python@${{D/sha256/md5}}\n", {}, "python@${D/sha256/md5}", BasePin.NONE),
        (f"ARG B={D}\nARG A\nFROM python@${{A:-${{B}}}}\n", {}, f"python@${{A:-{D}}}", BasePin.NONE),
        (f"ARG D={D}\nFROM python@\\${{D}}\n", {}, f"python@\\{D}", BasePin.NONE),
        ("FROM python@sha256:abc\n", {}, "python@sha256:abc", BasePin.NONE),
        (f"FROM python@sha256:{HEX.upper()}\n", {}, f"python@sha256:{HEX.upper()}", BasePin.NONE),
        (f"FROM python@md5:{HEX[:32]}\n", {}, f"python@md5:{HEX[:32]}", BasePin.NONE),
        (f"FROM python@sha256:{HEX}0\n", {}, f"python@sha256:{HEX}0", BasePin.NONE),
        # tags stay tags, latest stays unpinned
        ("ARG V=3.12\nFROM python:${V}\n", {}, "python:3.12", BasePin.TAG),
        ("ARG V=latest\nFROM python:${V}\n", {}, "python:latest", BasePin.NONE),
        # multi-stage: the final stage's external base
        (f"ARG D={D}\nFROM python@${{D}} AS base\nFROM base\n", {}, f"python@{D}", BasePin.DIGEST),
    ],
)
def test_pin_through_substitution(text: str, build_args: dict[str, str], ref: str, pin: BasePin) -> None:
    base = final_base(text, build_args=build_args)
    assert (base.ref, base.pin) == (ref, pin)


def test_an_unresolved_platform_is_shown_as_written() -> None:
    base = final_base(f"ARG D={D}\nFROM --platform=${{P:?set P}} python@${{D}}\n")
    assert (base.platform, base.pin) == ("${P:?set P}", BasePin.DIGEST)
    base = final_base(f"ARG P=linux/arm64\nARG D={D}\nFROM --platform=${{P:?x}} python@${{D}}\n")
    assert base.platform == "linux/arm64"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'ARG EMPTY=""\nFROM ${EMPTY}\n',
            "Dockerfile: FROM ${EMPTY} expands to nothing (EMPTY has no default); pass it with --build-arg or set a "
            "default in the Dockerfile given with --dockerfile",
        ),
        ("FROM\n", "Dockerfile: a FROM line names no image; fix the Dockerfile passed as --dockerfile"),
        (
            "FROM --platform=linux/amd64\n",
            "Dockerfile: a FROM line names no image; fix the Dockerfile passed as --dockerfile",
        ),
        ("# only a comment\n", "Dockerfile has no FROM instruction; pass a valid Dockerfile with --dockerfile"),
        ("\ufeff", "Dockerfile has no FROM instruction; pass a valid Dockerfile with --dockerfile"),
    ],
)
def test_broken_dockerfiles_are_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        final_base(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "denied"),
    [
        (f"ARG D={D}\nFROM python@${{D}}\nUSER 10001\n", []),
        ("ARG D\nFROM python@${D}\nUSER 10001\n", ["image.base-unpinned"]),
        ("ARG D\nFROM python@${D:?required}\nUSER 10001\n", ["image.base-unpinned"]),
    ],
)
def test_the_gate_reads_the_pin_as_the_dockerfile_means_it(text: str, denied: list[str]) -> None:
    base = final_base(text)
    verdict, _ = evaluate(facts=[good_image(base_image=base.ref, base_pin=base.pin)], build=good_build())
    assert ids(verdict.denials) == denied


_PIECES = [
    "$",
    "${",
    "}",
    ":-",
    ":?",
    "-",
    "+",
    "@",
    "sha256:",
    HEX,
    "\\",
    "`",
    "\n",
    " ",
    "ARG ",
    "FROM ",
    "=",
    '"',
    "\x00",
    "\u202e",
]


def test_mutated_dockerfiles_give_a_base_or_an_input_error() -> None:
    """3,000 seeded mutations of a Dockerfile with ARG-built digests: each gives a base image (pinned by
    digest only when the result carries a well-formed digest) or an InputError; nothing else escapes."""
    rng = random.Random(8)
    sample = (
        f"# escape=\\\nARG ALG=sha256\nARG D=${{ALG}}:{HEX}\nFROM --platform=$P python:3.12@${{D:-x}} AS b\nFROM b\n"
    )
    pinned = 0
    for _ in range(3000):
        text = list(sample)
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(len(text))
            if rng.random() < 0.5:
                text.insert(pos, rng.choice(_PIECES))
            else:
                del text[pos]
        try:
            base = final_base("".join(text), build_args={"D": rng.choice(["", D, "latest", "${D}"])})
        except InputError as exc:
            assert "\n" not in str(exc)
            continue
        if base.pin is BasePin.DIGEST:
            pinned += 1
            assert base.ref.endswith(D) or base.ref.endswith(D512)
            assert "$" not in base.ref
    assert pinned > 100
