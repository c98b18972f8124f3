"""CPU time trivy.parse spends beyond json.loads on a 100k-vulnerability report (target: well under 1 s).

Run: .venv/bin/python benchmarks/bench_trivy_parse.py   (prints seconds; exits 1 when over the target)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.tools import trivy

N = 100_000
TARGET_SECONDS = 1.0


def report(n: int) -> str:
    vulns = [
        {
            "VulnerabilityID": f"CVE-2024-{i:06d}",
            "PkgName": f"pkg{i % 500}",
            "PkgIdentifier": {"PURL": f"pkg:pypi/pkg{i % 500}@1.0", "UID": f"u{i % 500}"},
            "InstalledVersion": "1.0",
            "FixedVersion": "1.1",
            "Status": "fixed",
            "PkgPath": f"usr/lib/python3/dist-packages/pkg{i % 500}-1.0.dist-info/METADATA",
            "PrimaryURL": f"https://avd.aquasec.com/nvd/cve-2024-{i:06d}",
            "Title": f"pkg{i % 500}: a problem",
            "Description": "A long description of the problem. " * 8,
            "Severity": ("LOW", "MEDIUM", "HIGH", "CRITICAL")[i % 4],
            "CweIDs": ["CWE-79"],
            "References": [f"https://example.invalid/{i}"],
        }
        for i in range(n)
    ]
    doc = {
        "SchemaVersion": 2,
        "ArtifactName": "/in/image.tar",
        "ArtifactType": "container_image",
        "Results": [{"Target": "Python", "Class": "lang-pkgs", "Type": "python-pkg", "Vulnerabilities": vulns}],
    }
    return json.dumps(doc)


def main() -> int:
    text = report(N)
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        json.loads(text)
        t1 = time.process_time()
        run = trivy.parse(text, mode="image")
        t2 = time.process_time()
        assert len(run.findings) == N
        overhead = (t2 - t1) - (t1 - t0)
        best = min(best, overhead)
        print(
            f"json.loads {t1 - t0:.3f} s, parse {t2 - t1:.3f} s, overhead {overhead:.3f} s ({len(text) / 1e6:.0f} MB)"
        )
    print(f"best overhead {best:.3f} s (target < {TARGET_SECONDS} s)")
    return 0 if best < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
