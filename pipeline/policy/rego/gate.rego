# Seaworthy gate: collects the deny/warn sets of every module under data.seaworthy.rules, applies
# overrides (by rule id; each shows, none may switch a rule off) and exceptions, and adds the denials of
# expired exceptions and of overrides without replacement.
# Query `data.seaworthy.gate`; the result shape is documented in docs/policy.md.
package seaworthy.gate

import rego.v1

schema := "seaworthy.gate-result/v1"

deny contains r if {
	some [kind, _, r] in data.seaworthy.collect.candidates
	kind == "deny"
	not data.seaworthy.collect.suppressed(r)
}

warn contains r if {
	some [kind, _, r] in data.seaworthy.collect.candidates
	kind == "warn"
	not data.seaworthy.collect.suppressed(r)
}

deny contains r if {
	some e in data.seaworthy.lib.expired_exceptions
	r := data.seaworthy.lib.reason(
		"exception.expired",
		sprintf("%s (%s, owner %s) expired on %s", [e.name, concat(", ", e.targets), e.owner, e.expires]),
		sprintf("Fix what %s waives, or renew it with a new expiry date after review by %s.", [e.name, e.owner]),
		[],
	)
}

# Overrides (docs/policy.md, "Replacing a bundled rule"): each one shows; an override may replace a rule,
# never switch it off; the gate's own checks cannot be overridden. None of these can be waived.
warn contains r if {
	some [name, id] in data.seaworthy.collect.override_declarations
	not data.seaworthy.collect.forbidden_override(id)
	noun := data.seaworthy.collect.rule_noun(id)
	r := data.seaworthy.lib.reason(
		"policy.override",
		sprintf("%s %s is overridden by package seaworthy.rules.%s: only that module's reasons with this id count", [noun, id, name]),
		sprintf("Review package seaworthy.rules.%s: it decides %s in place of the %s.", [name, id, noun]),
		[],
	)
}

deny contains r if {
	some id in data.seaworthy.collect.unreplaced
	modules := data.seaworthy.collect.overriding_modules(id)
	fps := sort({fp |
		some [_, _, d] in data.seaworthy.collect.dropped
		d.id == id
		some fp in object.get(d, "findings", [])
	})
	r := data.seaworthy.lib.reason(
		"policy.override-without-replacement",
		sprintf(
			"%s overrides %s %s but gives no reason with that id where it fired: the rule would be switched off",
			[modules, data.seaworthy.collect.rule_noun(id), id],
		),
		sprintf(
			"Make %s deny or warn with id %q for every case it lets through, or drop the override and waive %s in the exception file (owner, reason, expiry).",
			[modules, id, id],
		),
		fps,
	)
}

# An override accounts for every finding the dropped reasons named: one it names in none of its reasons
# with that id would vanish from the verdict.
deny contains r if {
	some id in data.seaworthy.collect.replaced
	fps := {fp | some [i, fp] in data.seaworthy.collect.unaccounted; i == id}
	count(fps) > 0
	modules := data.seaworthy.collect.overriding_modules(id)
	r := data.seaworthy.lib.reason(
		"policy.override-without-replacement",
		sprintf(
			"%s overrides %s %s but names %d finding(s) it fired on in none of its reasons with that id, so they would vanish: %s",
			[modules, data.seaworthy.collect.rule_noun(id), id, count(fps), _summary_of(fps)],
		),
		sprintf(
			"Make %s deny or warn with id %q listing each of these findings, or waive them in the exception file (owner, reason, expiry).",
			[modules, id],
		),
		sort(fps),
	)
}

# Every relaxation shows, finding by finding: a denial of the replaced rule that the override turned into
# a warning is a `policy.override-relaxed` warning naming the module and the findings.
warn contains r if {
	some id in data.seaworthy.collect.replaced
	fps := {fp | some [i, fp] in data.seaworthy.collect.relaxed; i == id}
	count(fps) > 0
	modules := data.seaworthy.collect.overriding_modules(id)
	noun := data.seaworthy.collect.rule_noun(id)
	r := data.seaworthy.lib.reason(
		"policy.override-relaxed",
		sprintf(
			"%s relaxed %s %s: %d finding(s) it denied are only warned about: %s",
			[modules, noun, id, count(fps), _summary_of(fps)],
		),
		sprintf("Review %s: it lets these findings through in place of the %s.", [modules, noun]),
		sort(fps),
	)
}

warn contains r if {
	some id in data.seaworthy.collect.relaxed_plain
	modules := data.seaworthy.collect.overriding_modules(id)
	noun := data.seaworthy.collect.rule_noun(id)
	r := data.seaworthy.lib.reason(
		"policy.override-relaxed",
		sprintf("%s relaxed %s %s: it denied on this input, the override only warns", [modules, noun, id]),
		sprintf("Review %s: it lets this through in place of the %s.", [modules, noun]),
		[],
	)
}

_summary_of(fps) := data.seaworthy.lib.summary([f | some f in input.findings; f.fingerprint in fps], 5)

# Ids of the gate's own checks (policy.*, exception.*, config.*) given by a user module: not counted, and denied.
deny contains r if {
	some [kind, name, id] in data.seaworthy.collect.reserved_uses
	r := data.seaworthy.lib.reason(
		"policy.reserved-id",
		sprintf(
			"package seaworthy.rules.%s gives a %s reason with id %s, an id reserved for the gate's own checks (policy.*, exception.*, config.*); it was not counted",
			[name, kind, id],
		),
		sprintf("Give the reasons of package seaworthy.rules.%s ids of your own (e.g. %s.<check>).", [name, name]),
		[],
	)
}

deny contains r if {
	some [name, id] in data.seaworthy.collect.override_declarations
	data.seaworthy.collect.forbidden_override(id)
	r := data.seaworthy.lib.reason(
		"policy.override-forbidden",
		sprintf(
			"package seaworthy.rules.%s overrides %s, a check of the gate itself that cannot be overridden",
			[name, id],
		),
		sprintf("Remove `overrides contains %q` from package seaworthy.rules.%s.", [id, name]),
		[],
	)
}

# Exceptions that took effect, with what they waived.
exceptions_applied contains a if {
	some e in data.seaworthy.lib.active_exceptions
	fps := sort([fp | some fp in data.seaworthy.lib.covered_by[e.name]])
	rules := data.seaworthy.collect.rules_waived_by(e)
	count(fps) + count(rules) > 0
	a := {
		"exception": e.name,
		"targets": e.targets,
		"owner": e.owner,
		"expires": e.expires,
		"findings": fps,
		"rules": rules,
	}
}

notes contains msg if {
	some e in data.seaworthy.lib.active_exceptions
	not e.name in data.seaworthy.collect.applied_exception_names
	msg := sprintf(
		"%s (%s, owner %s) matched nothing: remove it, or fix its target or scope",
		[e.name, concat(", ", e.targets), e.owner],
	)
}

# Rule modules whose deny/warn is not a set of {id, msg, remedy, findings} objects.
malformed contains {"module": name, "kind": kind, "value": d} if {
	some kind in ["deny", "warn"]
	some name
	d := data.seaworthy.rules[name][kind]
	not is_set(d)
}

malformed contains {"module": name, "kind": kind, "value": r} if {
	some kind in ["deny", "warn"]
	some name
	d := data.seaworthy.rules[name][kind]
	is_set(d)
	some r in d
	not data.seaworthy.collect.well_formed(r)
}

# `overrides` that is not a set of rule ids (a string, an object, a set holding a number) would replace nothing
# while looking as if it did.
malformed contains {"module": name, "kind": "overrides", "value": o} if {
	some name
	o := data.seaworthy.rules[name].overrides
	not _rule_ids(o)
}

_rule_ids(o) if {
	is_set(o)
	every id in o {
		is_string(id)
	}
}
