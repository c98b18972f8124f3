# Seaworthy gate library: what every rule module (bundled or yours) reads.
# Schema of `input`: docs/policy.md ("seaworthy.gate-input/v2", pipeline/policy/gate-input.schema.json).
package seaworthy.lib

import rego.v1

ranks := {"UNKNOWN": 0, "INFO": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}

vulnerability_categories := {"dependency", "image-vulnerability"}

config := input.config

# Exceptions in force today (an exception is valid through its `expires` day).
active_exceptions := [e | some e in input.exceptions; not expired(e)]

expired_exceptions := [e | some e in input.exceptions; expired(e)]

expired(e) if e.expires < input.today

# --- which exception covers which finding --------------------------------------------------------------

covers(e, f) if {
	_targets_finding(e, f)
	_package_ok(e, f)
	_path_ok(e, f)
	image_scope_ok(e)
}

_targets_finding(e, f) if f.rule_id in e.targets

_targets_finding(e, f) if f.fingerprint in e.targets

_package_ok(e, _) if e.package == ""

# Package names compare by key (input.py `package_key`): lower case, and PEP 503 normalised for pypi
# (`PyYAML` = `pyyaml`, `ruamel.yaml` = `ruamel-yaml`). The exception carries its key per ecosystem. Versions are exact.
_package_ok(e, f) if {
	e.package != ""
	f.package.key == object.get(e.package_keys, f.package.ecosystem, e.package_keys["*"])
	_version_ok(e, f)
}

_version_ok(e, _) if e.version == ""

_version_ok(e, f) if {
	e.version != ""
	f.package.version == e.version
}

_path_ok(e, _) if e.path == ""

_path_ok(e, f) if {
	e.path != ""
	some loc in f.locations
	glob.match(e.path, ["/"], loc.path)
}

image_scope_ok(e) if e.image == ""

image_scope_ok(e) if {
	e.image != ""
	is_string(input.build.image)
	glob.match(e.image, ["/"], input.build.image)
}

# Exceptions in force whose image scope holds, by what they name (finding ids and fingerprints): each finding
# looks up only the exceptions naming its id or fingerprint, so matching takes time linear in findings +
# exceptions + matches (issue 8), never findings x exceptions. benchmarks/bench_exceptions.py times it.
by_target[t] contains e if {
	some e in active_exceptions
	image_scope_ok(e)
	some t in e.targets
}

# [exception name, fingerprint] for every finding an exception in force covers (`covers`, by lookup).
covered contains [e.name, f.fingerprint] if {
	index := by_target
	some f in input.findings
	some e in index[f.rule_id]
	_scope_ok(e, f)
}

covered contains [e.name, f.fingerprint] if {
	index := by_target
	some f in input.findings
	some e in index[f.fingerprint]
	_scope_ok(e, f)
}

# `_package_ok` and `_path_ok` in one call per (exception, finding) pair.
_scope_ok(e, _) if {
	e.package == ""
	e.path == ""
}

_scope_ok(e, f) if {
	e.package != ""
	e.path == ""
	_package_ok(e, f)
}

_scope_ok(e, f) if {
	e.path != ""
	_package_ok(e, f)
	_path_ok(e, f)
}

# The fingerprints each exception in force waived, by exception name.
covered_by[name] contains fp if {
	some [name, fp] in covered
}

waived_fingerprints := {fp | some [_, fp] in covered}

# The findings the rules see: everything not waived by an exception in force, most severe first.
findings := input.findings if count(waived_fingerprints) == 0

findings := [f | some f in input.findings; not f.fingerprint in waived_fingerprints] if {
	count(waived_fingerprints) > 0
}

# --- helpers for rules -----------------------------------------------------------------------------------

# Threshold rank per category (a severity name in the config; UNKNOWN means "any finding").
# Categories set to null ("off") are absent, so nothing of theirs is ever at or above a limit.
limits := {c: ranks[upper(l)] | some c, l in config.thresholds; is_string(l)}

# With `fixable_only`, vulnerabilities without a fixed version do not count. Other categories always count.
always_counted := {c | some c, _ in config.thresholds; not _fixable_filtered(c)}

_fixable_filtered(c) if {
	config.fixable_only
	c in vulnerability_categories
}

# Findings that break their category's threshold (after exceptions and the fixable-only switch).
# Set aside (and said so by their own rules): development-only dependencies the image does not install
# (rules/dev_dependencies.rego) and licence findings whose licence is on a licence list (rules/licenses.rego).
over_threshold := _over_threshold(input.findings, limits, always_counted, waived_fingerprints | _set_aside)

# Hot path (one pass over every finding): the limits, categories and skipped fingerprints are arguments,
# i.e. local values (a lookup by a computed key in a rule's value costs several times more), there is no
# function call per finding, and `findings` (after exceptions) is not built first: the cheap rank test
# drops most findings before the lookup. Same findings, same order as filtering `findings`.
# A finding counts when its category always counts or it is fixable (`fixable` present and not false).
_over_threshold(fs, lim, counted, skipped) := [f |
	some f in fs
	f.rank >= lim[f.category]
	true in {f.category in counted, object.get(f, "fixable", false) != false}
	not f.fingerprint in skipped
]

# The fingerprints `over_threshold` sets aside (see dev_set_aside and license_listed), built without a
# function call per finding.
_set_aside := {f.fingerprint |
	object.get(input, ["dev_dependencies", "installed"], null) == false
	some f in input.findings
	f.category == "dependency"
	object.get(f, "dev", false) == true
} | {f.fingerprint |
	ids := _license_list_ids
	some f in license_findings
	lower(f.rule_id) in ids
}

# The licence findings (trivy's licence scanner), in input order, before exceptions: found in one pass for
# the rules that read only these (_set_aside here, rules/licenses.rego).
license_findings := [f | some f in input.findings; f.category == "license"]

# A development-only dependency finding while the Dockerfile's final stage does not install them.
# Unknown (no Dockerfile read, or an input without `dev_dependencies`) counts them.
dev_set_aside(f) if {
	f.category == "dependency"
	object.get(f, "dev", false) == true
	object.get(input, ["dev_dependencies", "installed"], null) == false
}

_license_list_ids := {lower(l) | some l in array.concat(config.license_deny, config.license_warn)}

# A licence finding (trivy's licence scanner) about a licence on license_deny or license_warn: the licence
# rules judge it, with the SBOM's components, so one package is denied or warned about once.
license_listed(f) if {
	f.category == "license"
	lower(f.rule_id) in _license_list_ids
}

_counts(f) if f.category in always_counted

_counts(f) if f.fixable

# "rule at place, rule at place, … and N more", from the first `n` findings.
summary(fs, n) := s if {
	shown := [sprintf("%s at %s", [f.rule_id, f.where]) | some f in array.slice(fs, 0, n)]
	rest := count(fs) - count(shown)
	s := with_rest(concat(", ", shown), rest)
}

with_rest(text, 0) := text

with_rest(text, rest) := sprintf("%s and %d more", [text, rest]) if rest > 0

fingerprints(fs) := sort([f.fingerprint | some f in fs])

reason(id, msg, remedy, fps) := {"id": id, "msg": msg, "remedy": remedy, "findings": fps}
