"""Push your container (every platform variant as one index) and get back repo@sha256:…, with Seaworthy."""
