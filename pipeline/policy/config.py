"""What the Rego gate is configured with: thresholds, the fixable-only switch, labels, license lists.

`GateConfig` is policy *data*: `build_input` writes it into the gate's input document (`input.config`), and
the bundled rules read it from there. No rule has a threshold of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import attrs

from pipeline.model import Category, Severity

DEFAULT_THRESHOLDS: Mapping[Category, Severity | None] = {
    Category.SAST: Severity.HIGH,
    Category.SECRET: Severity.UNKNOWN,  # any secret at all, whatever severity the tool gave it
    Category.DEPENDENCY: Severity.HIGH,
    Category.MISCONFIGURATION: Severity.HIGH,
    Category.IMAGE_VULNERABILITY: Severity.HIGH,
    Category.LICENSE: Severity.HIGH,
}
"""Deny findings at or above these severities; `None` means the category never fails ("off")."""

DEFAULT_REQUIRED_LABELS = ("org.opencontainers.image.revision", "org.opencontainers.image.source")

DEFAULT_COPYLEFT_WARN = (
    "AGPL-1.0",
    "AGPL-1.0-only",
    "AGPL-1.0-or-later",
    "AGPL-3.0",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "GPL-2.0",
    "GPL-2.0+",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0",
    "GPL-3.0+",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "SSPL-1.0",
)
"""Strong copyleft (SPDX ids, deprecated forms included): warned about by default, never denied by default."""


def _thresholds(value: Mapping[Category, Severity | None]) -> Mapping[Category, Severity | None]:
    merged = dict(DEFAULT_THRESHOLDS)
    merged.update(value)
    return merged


@attrs.frozen
class GateConfig:
    thresholds: Mapping[Category, Severity | None] = attrs.field(
        factory=lambda: dict(DEFAULT_THRESHOLDS), converter=_thresholds
    )
    """Per category; categories not given keep their default."""
    fixable_only: bool = False
    """Count only vulnerabilities (dependency, image-vulnerability) that have a fixed version."""
    required_labels: tuple[str, ...] = DEFAULT_REQUIRED_LABELS
    license_deny: tuple[str, ...] = ()
    license_warn: tuple[str, ...] = DEFAULT_COPYLEFT_WARN
    relaxations: tuple[tuple[str, str], ...] = ()
    """(configuration key, what it relaxed) for scan-side knobs only the pipeline knows
    (`pipeline.config.Config.relaxations`); the gate warns about each (`config.relaxed`). The gate-side
    relaxations (thresholds, fixable_only, required_labels) it derives from the fields above."""
    source: str = "seaworthy.toml"
    """Where the configuration came from, for the gate's messages."""

    def to_input(self) -> dict[str, object]:
        """The `config` member of the gate input (sorted, JSON-ready)."""
        return {
            "thresholds": {
                c.value: (None if s is None else s.name)
                for c, s in sorted(self.thresholds.items(), key=lambda kv: kv[0].value)
            },
            "fixable_only": self.fixable_only,
            "required_labels": sorted(set(self.required_labels)),
            "license_deny": sorted(set(self.license_deny)),
            "license_warn": sorted(set(self.license_warn)),
            "relaxations": [{"key": key, "relaxed": what} for key, what in self.relaxations],
            "source": self.source,
        }


class GateSettingsLike(Protocol):
    """The `[gate]` table as `pipeline.config.GateSettings` parses it."""

    @property
    def thresholds(self) -> Mapping[Category, Severity | None]: ...
    @property
    def fixable_only(self) -> bool: ...
    @property
    def required_labels(self) -> Sequence[str]: ...
    @property
    def license_deny(self) -> Sequence[str]: ...
    @property
    def license_warn(self) -> Sequence[str] | None: ...


def gate_config_from(
    settings: GateSettingsLike, *, relaxations: Sequence[tuple[str, str]] = (), source: str = ""
) -> GateConfig:
    """Turn the parsed `[gate]` table into the gate's policy data (None license_warn keeps the default).

    `relaxations` and `source`: `Config.relaxations()` and `Config.source_file` of the same configuration."""
    return GateConfig(
        relaxations=tuple(relaxations),
        source=source or "seaworthy.toml",
        thresholds=dict(settings.thresholds),
        fixable_only=settings.fixable_only,
        required_labels=tuple(settings.required_labels),
        license_deny=tuple(settings.license_deny),
        license_warn=DEFAULT_COPYLEFT_WARN if settings.license_warn is None else tuple(settings.license_warn),
    )
