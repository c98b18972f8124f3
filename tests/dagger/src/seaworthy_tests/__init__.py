"""End-to-end tests of Seaworthy that only a Dagger engine can run: `dagger call -m tests/dagger all`."""
