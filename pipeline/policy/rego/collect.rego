# Internals of the gate: candidate reasons from every rule module, overrides and exception matching.
# Kept out of package seaworthy.gate so that the gate's result document holds only its public members.
package seaworthy.collect

import rego.v1

# Rule ids replaced by a module's own `overrides` declaration.
overrides := {id | some name; some id in data.seaworthy.rules[name].overrides}

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

# An exception waives a whole gate rule when it names the rule id and has no package/path scope.
suppresses(e, r) if {
	r.id in e.targets
	e.package == ""
	e.path == ""
	data.seaworthy.lib.image_scope_ok(e)
}

suppressed(r) if {
	some e in data.seaworthy.lib.active_exceptions
	suppresses(e, r)
}

well_formed(r) if {
	is_object(r)
	is_string(r.id)
	is_string(r.msg)
}
