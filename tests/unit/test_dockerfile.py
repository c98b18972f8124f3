from __future__ import annotations

import pytest

from pipeline.errors import InputError
from pipeline.formats.dockerfile import classify_pin, final_base
from pipeline.model import BasePin

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("ref", "pin"),
    [
        ("python:3.12.8-slim-bookworm", BasePin.TAG),
        (f"python:3.12@{DIGEST}", BasePin.DIGEST),
        (f"python@{DIGEST}", BasePin.DIGEST),
        ("python", BasePin.NONE),
        ("python:latest", BasePin.NONE),
        ("localhost:5000/team/app", BasePin.NONE),  # the registry port is not a tag
        ("localhost:5000/team/app:1.2", BasePin.TAG),
        ("scratch", BasePin.SCRATCH),
        ("SCRATCH", BasePin.SCRATCH),
    ],
)
def test_classify_pin(ref: str, pin: BasePin) -> None:
    assert classify_pin(ref) == pin


def test_arg_default_and_build_arg_override() -> None:
    text = "ARG BASE_IMAGE=python:3.12.8-slim\nFROM ${BASE_IMAGE}\nUSER 10001\n"
    assert final_base(text).ref == "python:3.12.8-slim"
    assert final_base(text).pin == BasePin.TAG
    over = final_base(text, build_args={"BASE_IMAGE": f"localhost/base@{DIGEST}"})
    assert over.ref == f"localhost/base@{DIGEST}"
    assert over.pin == BasePin.DIGEST


def test_multi_stage_final_stage_and_stage_reference() -> None:
    text = """\
# syntax=docker/dockerfile:1
ARG PY=3.12.8
FROM --platform=$BUILDPLATFORM golang:1.22 AS build
RUN go build ./...
FROM python:${PY}-slim AS runtime-base
FROM runtime-base AS final
COPY --from=build /out /app
"""
    base = final_base(text)
    assert base.ref == "python:3.12.8-slim"
    assert base.pin == BasePin.TAG
    assert base.stages == ("runtime-base",)


def test_platform_flag_comments_and_continuations() -> None:
    text = """\
ARG REG=docker.io
# FROM evil:latest  (a comment, not an instruction)
FROM \\
    --platform=linux/arm64 \\
    ${REG}/library/debian:bookworm-20240101 \\
    AS final
RUN echo hi \\
    # a comment inside a continuation
    && echo there
"""
    base = final_base(text)
    assert base.ref == "docker.io/library/debian:bookworm-20240101"
    assert base.platform == "linux/arm64"


def test_scratch_and_latest() -> None:
    assert final_base("FROM busybox AS b\nFROM scratch\nCOPY --from=b /bin/busybox /\n").pin == BasePin.SCRATCH
    assert final_base("from python:latest\n").pin == BasePin.NONE
    assert final_base("FROM python\n").pin == BasePin.NONE


def test_arg_after_from_is_not_visible_in_later_from() -> None:
    # Docker: only ARGs declared before the first FROM take part in FROM lines.
    text = "FROM alpine:3.19 AS a\nARG LATE=debian:12\nFROM ${LATE:-ubuntu:24.04}\n"
    assert final_base(text, build_args={"LATE": "debian:12"}).ref == "ubuntu:24.04"


def test_default_and_alternative_forms() -> None:
    assert final_base("ARG V\nFROM python:${V:-3.11}\n").ref == "python:3.11"
    assert final_base("ARG V=1\nFROM python${V:+:3.10}\n").ref == "python:3.10"
    assert final_base("ARG IMG=alpine:3.19\nFROM $IMG\n").ref == "alpine:3.19"


def test_escape_directive() -> None:
    text = "# escape=`\nFROM `\n  mcr.microsoft.com/windows/servercore:ltsc2022\n"
    assert final_base(text).ref == "mcr.microsoft.com/windows/servercore:ltsc2022"


@pytest.mark.parametrize("text", ["", "   \n# only a comment\n", "RUN echo no from\n"])
def test_no_from_is_an_input_error_naming_the_flag(text: str) -> None:
    with pytest.raises(InputError, match="--dockerfile"):
        final_base(text, path="app/Dockerfile")


def test_unset_arg_in_from_names_the_arg_and_build_arg() -> None:
    with pytest.raises(InputError, match=r"BASE_IMAGE.*--build-arg"):
        final_base("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
