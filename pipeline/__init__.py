"""Seaworthy: scan a source tree, build its image once, describe and scan that exact image, decide with one
policy gate, then publish, sign, attest and verify it by digest."""
