# Development-only dependencies (trivy fs --include-dev-deps marks them: finding.dev) count against
# threshold.dependency only when the image ships them: input.dev_dependencies.installed is true (the
# Dockerfile's final stage runs `npm install`/`npm ci`/`yarn`/`pnpm install` without --omit=dev/--production)
# or unknown (null: no Dockerfile was read). Either way the verdict says which it was.
package seaworthy.rules.dev_dependencies

import rego.v1

_installed := object.get(input, ["dev_dependencies", "installed"], null)

_evidence := object.get(input, ["dev_dependencies", "evidence"], "")

# Development dependencies at or over the dependency threshold (after exceptions and fixable-only).
# Hot path, no pass over input.findings of its own: when the image installs them (or nobody knows), the
# development dependencies among the dependency findings over the threshold (lib._over_at.dependency, the
# indexes of the one pass the threshold rules take; licence findings on a licence list are not left out
# there, and this rule never left them out); when it does not, the development dependency findings that
# lib.dev_not_installed found for lib.dev_set_aside, filtered here. Either way those of lib.findings, in the
# same order. tests/unit/test_rego_hot_paths.py checks it against the plain definition.
_dev_hits := [f |
	fs := input.findings
	some i in sort(data.seaworthy.lib._over_at.dependency)
	f := fs[i]
	object.get(f, "dev", false) == true
] if _installed != false

_dev_hits := [f |
	waived := data.seaworthy.lib.waived_fingerprints
	some f in data.seaworthy.lib.dev_not_installed
	not f.fingerprint in waived
	f.rank >= data.seaworthy.lib.limits.dependency
	_fixable_ok(f)
] if _installed == false

_fixable_ok(_) if not data.seaworthy.lib.config.fixable_only

_fixable_ok(f) if f.fixable

warn contains reason if {
	_installed == false
	count(_dev_hits) > 0
	reason := data.seaworthy.lib.reason(
		"dependency.dev-not-shipped",
		sprintf("%d development-only dependency finding(s) not gated, as the image does not install development dependencies (%s): %s", [
			count(_dev_hits), _evidence, data.seaworthy.lib.summary(_dev_hits, 5),
		]),
		"Keep development dependencies out of the image (npm ci --omit=dev); upgrade them all the same, they run on developer and CI machines.",
		data.seaworthy.lib.fingerprints(_dev_hits),
	)
}

warn contains reason if {
	_installed != false
	count(_dev_hits) > 0
	why := _why
	reason := data.seaworthy.lib.reason(
		"dependency.dev-shipped",
		sprintf("%d of the dependency finding(s) over the threshold are development-only dependencies, gated because %s: %s", [
			count(_dev_hits), why, data.seaworthy.lib.summary(_dev_hits, 5),
		]),
		"Install only production dependencies in the image (npm ci --omit=dev, yarn install --production, pnpm install --prod), or upgrade them.",
		data.seaworthy.lib.fingerprints(_dev_hits),
	)
}

_why := sprintf("the image installs them (%s)", [_evidence]) if _installed == true

_why := "no Dockerfile was read to tell whether the image installs them" if _installed == null
