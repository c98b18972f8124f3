"""References built from CI variables: lower-cased, unexpanded variables and empty parts refused."""

from __future__ import annotations

import pytest

from pipeline.errors import InputError
from pipeline.tools.image_name import ci_image_name


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ghcr.io/Octo-Org/My-App", "ghcr.io/octo-org/my-app"),  # ghcr.io/${{ github.repository }}
        ("ghcr.io/Octo-Org/My-App:V1.2-RC", "ghcr.io/octo-org/my-app:V1.2-RC"),  # tags keep their case
        ("Registry.GitLab.com/Group/Sub/Project", "registry.gitlab.com/group/sub/project"),
        ("  ghcr.io/octo/app  ", "ghcr.io/octo/app"),
        ("localhost:5000/Team/App@sha256:" + "a" * 64, "localhost:5000/team/app@sha256:" + "a" * 64),
    ],
)
def test_valid_references_come_out_lower_cased(given: str, expected: str) -> None:
    assert ci_image_name(given) == expected


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("ghcr.io/${{ github.repository }}", "not expanded"),
        ("$CI_REGISTRY_IMAGE:latest", "not expanded"),
        ("registry.example.com/${CI_PROJECT_PATH}", "not expanded"),
        ("registry.example.com/%BUILD_REPO%", "not expanded"),
        ("ghcr.io//app", "empty path component"),
        ("ghcr.io/octo/", "empty path component"),
        ("ghcr.io/octo/app:", "invalid tag"),
        ("", "is empty"),
        ("ghcr.io/oc to/app", "whitespace"),
        ("https://ghcr.io/octo/app", "scheme"),
    ],
)
def test_what_no_expansion_should_leave_is_refused_in_one_line(given: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem) as err:
        ci_image_name(given, what="--repository")
    assert "\n" not in str(err.value)
