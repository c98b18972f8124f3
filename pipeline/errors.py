"""Error types, one per seam. Every message starts with one line that names the input at fault and the fix."""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class SeaworthyError(Exception):
    """Base class of every error Seaworthy raises on purpose."""


class ConfigError(SeaworthyError):
    """`seaworthy.toml` or a function argument is invalid."""


class InputError(SeaworthyError):
    """A source tree, file or reference given by the user is not usable."""


class ToolFailed(SeaworthyError):
    """An external tool exited with a failure code (not its "found something" code).

    Carries the tool's own message so the user sees what the tool said.
    """

    def __init__(self, tool: str, exit_code: int, message: str) -> None:
        self.tool = tool
        self.exit_code = exit_code
        self.tool_message = _ANSI.sub("", message).strip()  # gitleaks colours its log even with --no-color
        msg = self.tool_message
        if len(msg) > 3000:  # keep the head (Go panics say what happened first) and the tail
            msg = f"{msg[:1000]}\n[…]\n{msg[-2000:]}"
        tail = msg or "(the tool printed nothing)"
        super().__init__(
            f"{tool} failed with exit code {exit_code}; this is a tool failure, not a clean result. "
            f"Fix the cause it reports and run again.\n{tail}"
        )


class ToolOutputError(SeaworthyError):
    """A tool's output is empty, truncated or not in the format we asked for."""

    def __init__(self, tool: str, problem: str) -> None:
        self.tool = tool
        self.problem = problem
        super().__init__(
            f"{tool} output is unusable: {problem}; treating this as a failure, not as 'no findings'. "
            f"Re-run the scan; if it persists, check the {tool} version pinned in pipeline/tools/{tool}.py."
        )


class PolicyError(SeaworthyError):
    """A policy file does not parse or a rule returns the wrong shape."""


class GateFailed(SeaworthyError):
    """The policy gate denied the release. The message lists every reason."""


class RegistryError(SeaworthyError):
    """A registry could not be reached or refused the request."""
