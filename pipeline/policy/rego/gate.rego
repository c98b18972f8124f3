# Seaworthy gate: collects the deny/warn sets of every module under data.seaworthy.rules, applies
# overrides (by rule id) and exceptions, and adds the denials of expired exceptions.
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

# Exceptions that took effect, with what they waived.
exceptions_applied contains a if {
	some e in data.seaworthy.lib.active_exceptions
	fps := sort([fp | some [name, fp] in data.seaworthy.lib.covered; name == e.name])
	rules := sort({r.id | some [_, _, r] in data.seaworthy.collect.candidates; is_object(r); data.seaworthy.collect.suppresses(e, r)})
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
	applied := {a.exception | some a in exceptions_applied}
	not e.name in applied
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
