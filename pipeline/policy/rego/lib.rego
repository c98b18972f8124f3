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
# No exception in force (the common case: no exception file): no pass over the findings at all. Otherwise
# two passes, one by rule id and one by fingerprint; one pass looking both up (`some t in [f.rule_id,
# f.fingerprint]`, or object.get of both) costs regorus more than the two, as it builds a value per finding.
covered contains [e.name, f.fingerprint] if {
	index := by_target
	count(index) > 0
	some f in input.findings
	some e in index[f.rule_id]
	_scope_ok(e, f)
}

covered contains [e.name, f.fingerprint] if {
	index := by_target
	count(index) > 0
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
# In input order; the bundled rules read `_over_at` (below) instead, so this list is built only for the
# policies that read it (yours): from `_over_at`, without another pass over every finding.
over_threshold := [f |
	fs := input.findings
	listed := _license_set_aside
	some i in sort({j | some _, indexes in _over_at; some j in indexes})
	f := fs[i]
	not f.fingerprint in listed
]

# Hot path (the one pass over every finding that the threshold rules take): the index in input.findings of
# every finding at or over its category's limit, not waived and not a development dependency set aside,
# by category. thresholds.deny and dev_dependencies._dev_hits read their category's indexes (ascending:
# input order) instead of filtering a list of every finding over a threshold once per category.
# Licence findings on a licence list are not left out here but by the readers (`over_threshold_at`):
# dev_dependencies._dev_hits does not leave them out (the same fingerprint, from a hand-written input).
# The limits, categories and skipped fingerprints are local values (a lookup by a computed key in a rule's
# value costs several times more), there is no function call per finding, and `findings` (after exceptions)
# is not built first: the cheap rank test drops most findings before the lookup.
# A finding counts when its category always counts or it is fixable (`fixable` present and not false); when
# no category with a limit is filtered by fixable_only (the default), every finding at its limit counts,
# and the first definition skips that test.
_over_at[c] contains i if {
	count(_fixable_limited) == 0
	lim := limits
	skipped := waived_fingerprints | _dev_set_aside
	some i, f in input.findings
	c := f.category
	f.rank >= lim[c]
	not f.fingerprint in skipped
}

_over_at[c] contains i if {
	count(_fixable_limited) > 0
	lim := limits
	counted := always_counted
	skipped := waived_fingerprints | _dev_set_aside
	some i, f in input.findings
	c := f.category
	f.rank >= lim[c]
	true in {c in counted, object.get(f, "fixable", false) != false}
	not f.fingerprint in skipped
}

# Categories with a limit whose findings count only when fixable (fixable_only).
_fixable_limited := {c | some c, _ in limits; not c in always_counted}

# The indexes (in input.findings, ascending) of the findings of `category` in over_threshold; undefined when
# there are none before the licence findings on a licence list are left out.
over_threshold_at(category) := sort(_over_at[category]) if count(_license_set_aside) == 0

over_threshold_at(category) := [i |
	fs := input.findings
	listed := _license_set_aside
	some i in sort(_over_at[category])
	not fs[i].fingerprint in listed
] if {
	count(_license_set_aside) > 0
	_over_at[category]
}

# The fingerprints `over_threshold` sets aside (see dev_set_aside and license_listed), built without a
# function call per finding.
_set_aside := _dev_set_aside | _license_set_aside

_dev_set_aside := {f.fingerprint | some f in dev_not_installed}

# The development-only dependency findings when the image does not install them (dev_set_aside), in input
# order, before exceptions: [] when it does or nobody knows. One pass, shared with
# rules/dev_dependencies.rego.
dev_not_installed := [f |
	object.get(input, ["dev_dependencies", "installed"], null) == false
	some f in input.findings
	f.category == "dependency"
	object.get(f, "dev", false) == true
]

_license_set_aside := {f.fingerprint | some f in license_listed_findings}

# The licence findings whose licence is on a licence list (license_listed), in input order, before
# exceptions: found in one pass over every finding (none when both lists are empty) for the rules that read
# only these (_license_set_aside here, rules/licenses.rego).
license_listed_findings := [f |
	ids := _license_list_ids
	count(ids) > 0
	some f in input.findings
	f.category == "license"
	lower(f.rule_id) in ids
]

# The licence findings (trivy's licence scanner), in input order, before exceptions.
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
summary(fs, n) := summary_of_first(array.slice(fs, 0, n), count(fs))

# The same text as summary(fs, n) from `first` (array.slice(fs, 0, n)) and `total` (count(fs)), for a rule
# that does not build `fs` (rules/thresholds.rego).
summary_of_first(first, total) := s if {
	shown := [sprintf("%s at %s", [f.rule_id, f.where]) | some f in first]
	s := with_rest(concat(", ", shown), total - count(shown))
}

with_rest(text, 0) := text

with_rest(text, rest) := sprintf("%s and %d more", [text, rest]) if rest > 0

fingerprints(fs) := sort([f.fingerprint | some f in fs])

reason(id, msg, remedy, fps) := {"id": id, "msg": msg, "remedy": remedy, "findings": fps}
