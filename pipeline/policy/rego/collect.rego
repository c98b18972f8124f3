# Internals of the gate: candidate reasons from every rule module, overrides and exception matching.
# Kept out of package seaworthy.gate so that the gate's result document holds only its public members.
package seaworthy.collect

import rego.v1

# Rule ids of the bundled rules (mirrored by pipeline.policy.exceptions.BUNDLED_RULE_IDS; a test keeps them equal).
bundled_rule_ids := {
	"exception.expired",
	"image.base-no-digest",
	"image.base-unpinned",
	"image.digest-mismatch",
	"image.labels",
	"image.root-user",
	"license.copyleft",
	"license.denied",
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
	some id in data.seaworthy.rules[name].overrides
	is_string(id)
}

# Ids no module may override: the gate's own checks (the override is refused with policy.override-forbidden).
forbidden_override(id) if id == "exception.expired"

forbidden_override(id) if startswith(id, "policy.")

# Rule ids replaced by a module's own `overrides` declaration (forbidden ones replace nothing).
overrides := {id | some [_, id] in override_declarations; not forbidden_override(id)}

_declares(name, id) if id in data.seaworthy.rules[name].overrides

overridden(name, r) if {
	r.id in overrides
	not _declares(name, r.id)
}

# Every candidate reason: [kind, module, value], after overrides, before exceptions.
candidates contains [kind, name, r] if {
	some kind in ["deny", "warn"]
	some name
	some r in data.seaworthy.rules[name][kind]
	not overridden(name, r)
}

# How messages name an overridden id.
rule_noun(id) := "bundled rule" if id in bundled_rule_ids

rule_noun(id) := "rule" if not id in bundled_rule_ids

# "package seaworthy.rules.a, package seaworthy.rules.b": the modules that override `id`.
overriding_modules(id) := concat(", ", sort({sprintf("package seaworthy.rules.%s", [name]) |
	some [name, i] in override_declarations
	i == id
}))

# Reasons an override drops (another module's reasons with an overridden id), before exceptions.
dropped contains [name, r] if {
	some kind in ["deny", "warn"]
	some name
	some r in data.seaworthy.rules[name][kind]
	overridden(name, r)
}

# Overridden ids for which an overriding module gives a reason of its own on this input.
replaced := {r.id | some [_, _, r] in candidates; r.id in overrides}

# Overridden ids whose reasons were dropped with nothing in their place: the rule would be switched off.
unreplaced := {r.id | some [_, r] in dropped; not r.id in replaced}

# An exception waives a whole gate rule when it names the rule id and has no package/path scope.
suppresses(e, r) if {
	r.id in e.targets
	e.package == ""
	e.path == ""
	data.seaworthy.lib.image_scope_ok(e)
}

# Names of the exceptions that took effect (computed once: the gate's notes look each exception up here).
applied_exception_names := {a.exception | some a in data.seaworthy.gate.exceptions_applied}

suppressed(r) if {
	some e in data.seaworthy.lib.active_exceptions
	suppresses(e, r)
}

well_formed(r) if {
	is_object(r)
	is_string(r.id)
	is_string(r.msg)
}
