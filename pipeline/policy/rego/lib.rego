# Seaworthy gate library: what every rule module (bundled or yours) reads.
# Schema of `input`: docs/policy.md ("seaworthy.gate-input/v1").
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

# Ids and fingerprints named by exceptions in force: only findings carrying one are checked further.
_targeted := {t | some e in active_exceptions; some t in e.targets}

# [exception name, fingerprint] for every finding an exception in force covers.
# Hot path (100k findings, 10k exceptions): a finding is matched only against the exceptions in force that
# name its id or fingerprint, found by key in `_by_target`, so the work grows with findings + matches, never
# with findings × exceptions. Large values are bound to local variables before a loop looks keys up in them:
# a lookup by key in a rule's value (data.…[key]) costs far more than in a local value.
_by_target := group_pairs([[t, i] | some i, e in active_exceptions; some t in e.targets], active_exceptions)

covered contains [e.name, f.fingerprint] if {
	count(_targeted) > 0
	by_target := _by_target
	some f in input.findings
	some e in by_target[f.rule_id]
	covers(e, f)
}

covered contains [e.name, f.fingerprint] if {
	count(_targeted) > 0
	by_target := _by_target
	some f in input.findings
	some e in by_target[f.fingerprint]
	covers(e, f)
}

# {key: [values[i], …]} of [key, i] pairs, in n log n (one sort, then each run of one key is one slice),
# instead of a pass over every pair for each key.
group_pairs(pairs, values) := {sorted[s][0]: [values[p[1]] | some p in array.slice(sorted, s, ends[k])] |
	some k, s in starts
} if {
	sorted := sort(pairs)
	previous := array.concat([[null, null]], sorted) # previous[i] is the pair before sorted[i]
	starts := [i | some i, p in sorted; previous[i][0] != p[0]]
	ends := array.concat(array.slice(starts, 1, count(starts)), [count(sorted)])
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
over_threshold := _over_threshold(input.findings, limits, always_counted, waived_fingerprints)

# Hot path (one pass over every finding): the limits, categories and waived fingerprints are arguments,
# i.e. local values (a lookup by a computed key in a rule's value costs several times more), there is no
# function call per finding, and `findings` (after exceptions) is not built first: the cheap rank test
# drops most findings before the waiver lookup. Same findings, same order as filtering `findings`.
# A finding counts when its category always counts or it is fixable (`fixable` present and not false).
_over_threshold(fs, lim, counted, waived) := [f |
	some f in fs
	f.rank >= lim[f.category]
	true in {f.category in counted, object.get(f, "fixable", false) != false}
	not f.fingerprint in waived
]

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
