"""cosign signing, attestations and verification by digest (key, keyless or KMS), with Seaworthy."""
