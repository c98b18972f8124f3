"""SBOMs (CycloneDX 1.6 + SPDX 2.3), image facts and image vulnerability scans of your own container, with
Seaworthy.
"""
