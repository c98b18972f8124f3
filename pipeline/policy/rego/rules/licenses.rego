# Licenses of the SBOM's components against input.config.license_deny / license_warn.
# A component counts only when every way of using it (each alternative of an OR) hits the list.
package seaworthy.rules.licenses

import rego.v1

_deny_ids := {lower(l) | some l in data.seaworthy.lib.config.license_deny}

_warn_ids := {lower(l) | some l in data.seaworthy.lib.config.license_warn}

_hits(c, ids) if {
	count(c.license_alternatives) > 0
	every alt in c.license_alternatives {
		some id in alt
		id in ids
	}
}

_label(c) := sprintf("%s %s (%s)", [c.name, c.version, concat(" AND ", c.licenses)])

_denied := [c | some c in input.sbom.components; _hits(c, _deny_ids)]

deny contains reason if {
	count(_denied) > 0
	reason := data.seaworthy.lib.reason(
		"license.denied",
		sprintf("%d component(s) under a denied license: %s", [count(_denied), _list(_denied)]),
		"Replace these components, or record a reviewed exception for license.denied.",
		[],
	)
}

_copyleft := [c |
	some c in input.sbom.components
	_hits(c, _warn_ids)
	not _hits(c, _deny_ids)
]

warn contains reason if {
	count(_copyleft) > 0
	reason := data.seaworthy.lib.reason(
		"license.copyleft",
		sprintf("%d component(s) under strong copyleft: %s", [count(_copyleft), _list(_copyleft)]),
		"Check that distributing the image meets these licenses' terms (source offer), or replace the components.",
		[],
	)
}

_list(cs) := s if {
	shown := [_label(c) | some c in array.slice(cs, 0, 10)]
	rest := count(cs) - count(shown)
	s := data.seaworthy.lib.with_rest(concat(", ", shown), rest)
}
