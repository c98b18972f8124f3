#!/usr/bin/env python3
"""Lock Seaworthy's tool images: resolve each pinned tag to its digest and write it into the pins file.

    python scripts/lock-images.py                     resolve every tag, write the digests (pipeline/tools/images.toml)
    python scripts/lock-images.py --check             fail when a tag, or a recorded digest, does not exist
    python scripts/lock-images.py --check --require-digests      ... or when an image has no digest (releases)

The digest is the sha256 of the manifest (or index, for multi-platform images) the registry serves for the
tag, read with ``skopeo inspect --raw`` (skopeo on PATH, or --skopeo). Registry credentials come from skopeo's
usual auth file (``skopeo login``). ``--registry-map docker.io=127.0.0.1:5000`` reads a registry through a
mirror (the tests use a loopback registry); ``--tls-verify=false`` talks plain HTTP to it.

Without --check, images whose registry cannot be reached are left as they are and reported; with --check,
anything that could not be checked fails the run (a check that did not check must not pass). Exit codes:
0 all good, 1 a tag or digest does not exist or could not be checked, 2 bad usage or a malformed pins file.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.errors import ConfigError  # noqa: E402
from pipeline.tools.base import PINS_FILE, Image, parse_pins  # noqa: E402
from pipeline.tools.skopeo import normalize_reference  # noqa: E402

_MISSING = re.compile(r"manifest unknown|name unknown|not found|404|does not exist|NAME_UNKNOWN|MANIFEST_UNKNOWN", re.I)


class Missing(Exception):
    """The registry answered: no such tag or digest."""


class Unreachable(Exception):
    """The registry could not be asked (network, TLS, auth, no skopeo)."""


def transport_ref(image: Image, *, by: str, mapping: dict[str, str]) -> str:
    """``docker://host/repo:tag`` (or ``@digest``) for skopeo, through `mapping` (registry host -> mirror)."""
    ref = normalize_reference(f"{image.repository}:{image.tag}")
    host = mapping.get(ref.registry, ref.registry)
    suffix = f"@{image.digest}" if by == "digest" else f":{image.tag}"
    return f"docker://{host}/{ref.repository}{suffix}"


def manifest_digest(skopeo: str, ref: str, *, tls_verify: bool) -> str:
    argv = [skopeo, "inspect", "--raw", "--retry-times", "2", f"--tls-verify={'true' if tls_verify else 'false'}", ref]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=120, check=False)
    except FileNotFoundError:
        raise Unreachable(f"skopeo not found at {skopeo!r}; install it or pass --skopeo=PATH") from None
    except subprocess.TimeoutExpired:
        raise Unreachable(f"{ref}: no answer within 120 s") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        last = message[-1] if message else f"skopeo exited {done.returncode}"
        raise (Missing if _MISSING.search(last) else Unreachable)(f"{ref}: {last}")
    if not done.stdout.strip():
        raise Unreachable(f"{ref}: the registry returned an empty manifest")
    return "sha256:" + hashlib.sha256(done.stdout).hexdigest()


def write_digests(text: str, digests: dict[str, str]) -> str:
    """The pins file text with the digest line of each named section replaced (comments kept)."""
    out: list[str] = []
    section = ""
    for line in text.splitlines(keepends=True):
        head = re.match(r"^\[([A-Za-z0-9_-]+)\]\s*$", line)
        if head:
            section = head.group(1)
        elif section in digests and re.match(r"^digest\s*=", line):
            out.append(f'digest = "{digests[section]}"\n')
            continue
        out.append(line)
    return "".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pins", type=Path, default=PINS_FILE, help="pins file (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="check only; fail on a tag or digest that is missing")
    parser.add_argument("--require-digests", action="store_true", help="with --check: every image must be locked")
    parser.add_argument("--registry-map", action="append", default=[], metavar="FROM=TO", help="read FROM via TO")
    parser.add_argument("--tls-verify", default="true", choices=["true", "false"])
    parser.add_argument("--skopeo", default="skopeo")
    parser.add_argument("--only", action="append", default=[], metavar="TOOL", help="only these tools")
    args = parser.parse_args(argv)

    mapping: dict[str, str] = {}
    for item in args.registry_map:
        src, sep, dst = item.partition("=")
        if not sep or not src or not dst:
            parser.error(f"--registry-map {item!r} is not FROM=TO, e.g. docker.io=127.0.0.1:5000")
        mapping[src] = dst
    try:
        text = args.pins.read_text()
        pins = parse_pins(text, source=str(args.pins))
    except (OSError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    unknown = sorted(set(args.only) - set(pins))
    if unknown:
        parser.error(f"--only: no pin named {', '.join(unknown)} in {args.pins}")
    tls = args.tls_verify == "true"
    failed = False
    resolved: dict[str, str] = {}
    for name, image in sorted(pins.items()):
        if args.only and name not in args.only:
            continue
        label = f"{image.repository}:{image.tag}"
        try:
            current = manifest_digest(args.skopeo, transport_ref(image, by="tag", mapping=mapping), tls_verify=tls)
        except Missing as exc:
            print(f"MISSING {name} {label}: the tag does not exist ({exc})")
            failed = True
            continue
        except Unreachable as exc:
            print(f"UNCHECKED {name} {label}: {exc}")
            failed = failed or args.check
            continue
        if args.check:
            if image.digest:
                try:
                    manifest_digest(args.skopeo, transport_ref(image, by="digest", mapping=mapping), tls_verify=tls)
                except Missing:
                    print(f"MISSING {name} {label}@{image.digest}: the locked digest is gone; run lock-images.py")
                    failed = True
                    continue
                except Unreachable as exc:
                    print(f"UNCHECKED {name} {label}@{image.digest}: {exc}")
                    failed = True
                    continue
                if current != image.digest:
                    print(f"MOVED {name} {label}: the tag now points at {current} (locked: {image.digest})")
                else:
                    print(f"ok {name} {label}@{image.digest}")
            elif args.require_digests:
                print(f"UNLOCKED {name} {label}: no digest; run scripts/lock-images.py and commit the result")
                failed = True
            else:
                print(f"ok {name} {label} (tag exists, digest {current} not locked)")
            continue
        resolved[name] = current
        print(f"locked {name} {label}@{current}")
    if not args.check and resolved:
        new = write_digests(text, resolved)
        if new != text:
            args.pins.write_text(new)
            parse_pins(new, source=str(args.pins))  # never leave a file the pipeline cannot read
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
