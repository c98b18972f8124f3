from __future__ import annotations

import pytest

from pipeline.errors import ToolFailed, ToolOutputError
from pipeline.tools.base import ExitCodes, load_json


def test_tool_failed_keeps_head_and_tail_of_long_messages() -> None:
    text = "fatal error: fault\n" + "x" * 5000 + "\nlast line"
    err = ToolFailed("trivy", 2, text)
    assert "fatal error: fault" in str(err) and "last line" in str(err)
    assert str(err).splitlines()[0].startswith("trivy failed with exit code 2; this is a tool failure")


def test_exit_codes_tell_findings_from_failure() -> None:
    codes = ExitCodes(clean=frozenset({0}), findings=frozenset({4}))
    assert codes.check("trivy", 0, "") is False
    assert codes.check("trivy", 4, "") is True
    with pytest.raises(ToolFailed, match="exit code 1") as info:
        codes.check("trivy", 1, "FATAL db corrupt")
    assert info.value.tool_message == "FATAL db corrupt"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the report is empty"),
        ("   \n", "the report is empty"),
        ('{"a": [1, 2', "truncated"),
        ('{"a": "unterminated', "truncated"),
        ("<html>502</html>", "not JSON"),
    ],
)
def test_load_json_fails_closed(text: str, problem: str) -> None:
    with pytest.raises(ToolOutputError, match=problem):
        load_json("gitleaks", text)


def test_tool_failed_strips_terminal_colours() -> None:
    err = ToolFailed("gitleaks", 1, "\x1b[31mFTL\x1b[0m config is broken")
    assert err.tool_message == "FTL config is broken"
