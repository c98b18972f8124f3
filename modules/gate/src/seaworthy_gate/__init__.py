"""Seaworthy's policy gate: the bundled Rego policies (plus yours) over a gate input document."""
