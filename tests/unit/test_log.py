from __future__ import annotations

import io
import json

from pipeline import log


def test_json_format_redacts_credential_like_keys() -> None:
    out = io.StringIO()
    assert log.configure("json", stream=out) == "json"
    log.get().info("pushed", registry="ghcr.io", password="hunter2", registry_token="abc")
    line = json.loads(out.getvalue().strip())
    assert line["event"] == "pushed"
    assert line["registry"] == "ghcr.io"
    assert line["password"] == log.REDACTED
    assert line["registry_token"] == log.REDACTED
    assert "hunter2" not in out.getvalue()


def test_console_is_the_default_and_readable(monkeypatch: object) -> None:
    out = io.StringIO()
    assert log.configure(None, stream=out) in ("console", "json")
    assert log.configure("console", stream=out) == "console"
    log.get().info("scan finished", findings=3)
    text = out.getvalue()
    assert "scan finished" in text and "findings=3" in text
    assert not text.lstrip().startswith("{")
