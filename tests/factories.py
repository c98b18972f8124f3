"""Small builders of model objects for unit tests."""

from __future__ import annotations

from pipeline.model import Category, Finding, Location, Package, Severity


def finding(
    category: Category = Category.SAST,
    rule_id: str = "rule",
    severity: Severity = Severity.HIGH,
    *,
    tool: str = "semgrep",
    path: str = "app.py",
    line: int | None = 1,
    package: Package | None = None,
    message: str = "problem",
) -> Finding:
    return Finding(
        category=category,
        rule_id=rule_id,
        severity=severity,
        message=message,
        tools=(tool,),
        locations=(Location(path, line),) if path else (),
        package=package,
    )


def vuln(
    cve: str = "CVE-2019-10906",
    name: str = "jinja2",
    version: str = "2.10",
    fixed: str = "2.10.1",
    severity: Severity = Severity.HIGH,
    *,
    category: Category = Category.DEPENDENCY,
    tool: str = "trivy",
    path: str = "requirements.txt",
) -> Finding:
    return finding(
        category,
        cve,
        severity,
        tool=tool,
        path=path,
        line=None,
        package=Package(name, version, "pypi", f"pkg:pypi/{name}@{version}", fixed),
    )
