# Internals of the gate: candidate reasons from every rule module, overrides and exception matching.
# Kept out of package seaworthy.gate so that the gate's result document holds only its public members.
package seaworthy.collect

import rego.v1

# Rule ids of the bundled rules (mirrored by pipeline.policy.exceptions.BUNDLED_RULE_IDS; a test keeps them equal).
bundled_rule_ids := {
	"dependency.dev-not-shipped",
	"dependency.dev-shipped",
	"exception.expired",
	"image.base-no-digest",
	"image.base-unpinned",
	"image.digest-mismatch",
	"image.labels",
	"image.root-user",
	"license.copyleft",
	"license.denied",
	"sast.no-coverage",
	"sbom.empty",
	"threshold.dependency",
	"threshold.image-vulnerability",
	"threshold.license",
	"threshold.misconfiguration",
	"threshold.sast",
	"threshold.secret",
}

# [module, rule id] for every `overrides contains "<rule id>"` a module declares.
override_declarations contains [name, id] if {
	some name
	declared := data.seaworthy.rules[name].overrides
	is_set(declared) # anything else is malformed (gate.rego), never iterated: engines differ on strings
	some id in declared
	is_string(id)
}

# Ids no module may override: the gate's own (policy.*, exception.*, config.*; refused with policy.override-forbidden).
forbidden_override(id) if reserved_id(id)

# Rule ids replaced by a module's own `overrides` declaration (forbidden ones replace nothing).
overrides := {id | some [_, id] in override_declarations; not forbidden_override(id)}

_declares(name, id) if {
	declared := data.seaworthy.rules[name].overrides
	is_set(declared)
	id in declared
}

overridden(name, r) if {
	r.id in overrides
	not _declares(name, r.id)
}

# The bundled rule modules (data.seaworthy.rules.<name>); every other module is a user's (user packages may
# not take these names: pipeline.policy.engine). A test keeps this a superset of the packages under rules/.
bundled_modules := {"coverage", "dev_dependencies", "exceptions", "image", "licenses", "relaxations", "sbom", "thresholds"}

# Ids only the gate itself gives: its checks on exceptions, on user policies and on relaxing configuration.
reserved_id(id) if startswith(id, "policy.")

reserved_id(id) if startswith(id, "exception.")

reserved_id(id) if startswith(id, "config.")

# [kind, module, id] for every reason a user module gives with a reserved id: not counted, and denied.
reserved_uses contains [kind, name, r.id] if {
	some kind in ["deny", "warn"]
	some name
	not name in bundled_modules
	some r in data.seaworthy.rules[name][kind]
	is_object(r)
	is_string(r.id)
	reserved_id(r.id)
}

_reserved(name, r) if {
	not name in bundled_modules
	is_object(r)
	is_string(r.id)
	reserved_id(r.id)
}

# Every candidate reason: [kind, module, value], after overrides, before exceptions.
candidates contains [kind, name, r] if {
	some kind in ["deny", "warn"]
	some name
	some r in data.seaworthy.rules[name][kind]
	not overridden(name, r)
	not _reserved(name, r)
}

# How messages name an overridden id.
rule_noun(id) := "bundled rule" if id in bundled_rule_ids

rule_noun(id) := "rule" if not id in bundled_rule_ids

# "package seaworthy.rules.a, package seaworthy.rules.b": the modules that override `id`.
overriding_modules(id) := concat(", ", sort({sprintf("package seaworthy.rules.%s", [name]) |
	some [name, i] in override_declarations
	i == id
}))

# Reasons an override drops (another module's reasons with an overridden id), before exceptions: [kind, module, reason].
dropped contains [kind, name, r] if {
	some kind in ["deny", "warn"]
	some name
	some r in data.seaworthy.rules[name][kind]
	overridden(name, r)
}

# The overriding modules' own reasons with an overridden id: [kind, reason].
replacements contains [kind, r] if {
	some [kind, _, r] in candidates
	r.id in overrides
}

# Overridden ids for which an overriding module gives a reason of its own on this input.
replaced := {r.id | some [_, r] in replacements}

# An override is accounted for finding by finding: [id, kind the dropped reason had, fingerprint].
dropped_findings contains [r.id, kind, fp] if {
	some [kind, _, r] in dropped
	some fp in object.get(r, "findings", [])
}

# [id, kind, fingerprint] for every finding a replacement reason names.
replaced_findings contains [r.id, kind, fp] if {
	some [kind, r] in replacements
	some fp in object.get(r, "findings", [])
}

_named := {[id, fp] | some [id, _, fp] in replaced_findings}

# Findings a dropped reason named and no replacement names: the override would make them vanish.
unaccounted contains [id, fp] if {
	some [id, _, fp] in dropped_findings
	not [id, fp] in _named
}

# Findings a dropped denial named that a replacement names only in a warning: the override relaxed them.
relaxed contains [id, fp] if {
	some [id, kind, fp] in dropped_findings
	kind == "deny"
	[id, fp] in _named
	not [id, "deny", fp] in replaced_findings
}

# Dropped reasons that name no finding (image, label, digest rules) are accounted for by id.
_dropped_plain contains [kind, r.id] if {
	some [kind, _, r] in dropped
	count(object.get(r, "findings", [])) == 0
}

_denied_by_replacement := {r.id | some [kind, r] in replacements; kind == "deny"}

# Overridden ids whose reasons were dropped with nothing in their place: the rule would be switched off.
unreplaced := {id | some [_, id] in _dropped_plain; not id in replaced} | {id |
	some [id, _, _] in dropped_findings
	not id in replaced
}

# Ids whose finding-less denial an override turned into warnings only.
relaxed_plain := {id |
	some [kind, id] in _dropped_plain
	kind == "deny"
	id in replaced
	not id in _denied_by_replacement
}

# An exception waives a whole gate rule when it names the rule id and has no package/path scope.
suppresses(e, r) if {
	r.id in e.targets
	e.package == ""
	e.path == ""
	data.seaworthy.lib.image_scope_ok(e)
}

# Names of the exceptions that took effect (computed once: the gate's notes look each exception up here).
applied_exception_names := {a.exception | some a in data.seaworthy.gate.exceptions_applied}

# A candidate reason an exception in force waives as a whole rule (`suppresses`, by lookup): the gate asks
# this for every candidate, so it looks its id up among the waived rule ids instead of trying every
# exception (candidates x exceptions: seconds with 1,000 exceptions, each one a long-lived warning).
suppressed(r) if r.id in waived_rule_ids

# The ids exceptions in force waive as whole rules: every target of an exception that `suppresses` a reason
# with that id (no package or path scope, image scope holds).
waived_rule_ids contains id if {
	some e in data.seaworthy.lib.active_exceptions
	_waives_rules(e)
	some id in e.targets
}

_waives_rules(e) if {
	e.package == ""
	e.path == ""
	data.seaworthy.lib.image_scope_ok(e)
}

# The rule ids exception `e` waives among the candidates' (gate.exceptions_applied), sorted: those of
# {r.id | some [_, _, r] in candidates; is_object(r); suppresses(e, r)}, by lookup in the candidates' ids.
rules_waived_by(e) := sort({id | some id in e.targets; id in _candidate_ids}) if _waives_rules(e)

rules_waived_by(e) := [] if not _waives_rules(e)

_candidate_ids := {r.id | some [_, _, r] in candidates; is_object(r)}

well_formed(r) if {
	is_object(r)
	is_string(r.id)
	r.id != ""
	is_string(r.msg)
	r.msg != ""
	is_string(object.get(r, "remedy", ""))
	_fingerprints(object.get(r, "findings", []))
}

# An array of strings. Hot path (a threshold reason names every finding over the limit: 10^5 fingerprints):
# values compare by type first, in OPA and regorus alike (null < booleans < numbers < strings < arrays,
# objects, sets), so every element is a string exactly when the least and the greatest are; min and max
# are one builtin call each, where `every fp in fps { is_string(fp) }` evaluated a body per fingerprint.
# tests/unit/test_rego_hot_paths.py checks it against that definition.
_fingerprints(fps) if {
	is_array(fps)
	count(fps) == 0
}

_fingerprints(fps) if {
	is_array(fps)
	is_string(min(fps))
	is_string(max(fps))
}
