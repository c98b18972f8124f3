"""Source scanning with Seaworthy's scanners (semgrep, gitleaks, trivy, hadolint, bandit, njsscan), merged
findings, reports and the policy gate.
"""
