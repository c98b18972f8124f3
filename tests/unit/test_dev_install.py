from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.formats.dev_install import dev_install

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("dockerfile", "installed"),
    [
        ("FROM node:22\nRUN npm install\n", True),
        ("FROM node:22\nRUN npm i\n", True),
        ("FROM node:22\nRUN npm ci\n", True),
        ("FROM node:22\nRUN npm ci --omit=dev\n", False),
        ("FROM node:22\nRUN npm ci --omit dev\n", False),
        ("FROM node:22\nRUN npm install --production\n", False),
        ("FROM node:22\nRUN npm install -g pm2\n", False),
        ("FROM node:22\nRUN npm install express\n", False),
        ("FROM node:22\nENV NODE_ENV=production\nRUN npm install\n", False),
        ("FROM node:22\nRUN NODE_ENV=production npm ci\n", False),
        ("FROM node:22\nRUN npm ci && npm run build && npm prune --omit=dev\n", False),
        ("FROM node:22\nRUN yarn install --frozen-lockfile\n", True),
        ("FROM node:22\nRUN yarn --production\n", False),
        ("FROM node:22\nRUN corepack enable \\\n  && pnpm install --frozen-lockfile\n", True),
        ("FROM node:22\nRUN pnpm install --prod\n", False),
        ("FROM python:3.12\nRUN pip install -r requirements.txt\n", False),
        # a builder's dev dependencies stay behind unless node_modules is copied over
        (
            "FROM node:22 AS build\nRUN npm ci && npm run build\n"
            "FROM node:22-slim\nRUN npm ci --omit=dev\nCOPY --from=build /app/dist ./dist\n",
            False,
        ),
        (
            "FROM node:22 AS build\nRUN npm ci\nFROM node:22-slim\nCOPY --from=build /app/node_modules ./node_modules\n",
            True,
        ),
        # the final stage decides: an earlier stage's install does not ship by itself
        ("FROM node:22 AS deps\nRUN npm install\nFROM gcr.io/distroless/nodejs22\nCOPY app.js .\n", False),
    ],
)
def test_dev_install(dockerfile: str, installed: bool) -> None:
    assert dev_install(dockerfile).installed is installed


def test_evidence_names_the_line_and_unknown_without_a_dockerfile() -> None:
    got = dev_install((ROOT / "tests" / "fixtures" / "node-deps" / "Dockerfile").read_text(), path="Dockerfile")
    assert got.installed is True
    assert got.evidence == "Dockerfile:6: npm install"
    assert dev_install(None).installed is None
    assert dev_install("# nothing\n").installed is False
