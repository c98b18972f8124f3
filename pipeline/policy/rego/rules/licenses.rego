# Licenses of the SBOM's components, and of trivy's licence findings, against input.config.license_deny /
# license_warn. A component counts only when every way of using it (each alternative of an OR) hits the list.
# A licence finding (category "license", rule_id the licence) about a package the SBOM also lists is judged
# once, as that component; the others count as components of their own. threshold.license leaves licence
# findings on these lists to this module (lib.license_listed), so nothing is denied twice.
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

# The SBOM lists this package and version with this licence (in one of its alternatives).
_in_sbom(f) if {
	some c in input.sbom.components
	c.name == f.package.name
	c.version == f.package.version
	some alt in c.license_alternatives
	lower(f.rule_id) in alt
}

# Licence findings (after exceptions) as components, unless the SBOM lists the same package, version and licence.
# Hot path: the licence findings on a licence list (lib.license_listed_findings: one pass over all findings,
# shared with lib, the list test made there with the list as a local value, no function call per finding)
# not waived, i.e. those of lib.findings for which `lib.license_listed(f)` holds, in the same order.
# tests/unit/test_rego_hot_paths.py checks it against the plain definition.
_from_findings := [c |
	waived := data.seaworthy.lib.waived_fingerprints
	some f in data.seaworthy.lib.license_listed_findings
	not f.fingerprint in waived
	is_object(f.package)
	not _in_sbom(f)
	c := {
		"name": f.package.name,
		"version": f.package.version,
		"licenses": [f.rule_id],
		"license_alternatives": [[lower(f.rule_id)]],
		"fingerprint": f.fingerprint,
	}
]

_components := array.concat([c | some c in input.sbom.components], _from_findings)

_fps(cs) := sort([c.fingerprint | some c in cs; c.fingerprint])

_denied := [c | some c in _components; _hits(c, _deny_ids)]

deny contains reason if {
	count(_denied) > 0
	reason := data.seaworthy.lib.reason(
		"license.denied",
		sprintf("%d component(s) under a denied license: %s", [count(_denied), _list(_denied)]),
		"Replace these components, or record a reviewed exception for license.denied.",
		_fps(_denied),
	)
}

_copyleft := [c |
	some c in _components
	_hits(c, _warn_ids)
	not _hits(c, _deny_ids)
]

warn contains reason if {
	count(_copyleft) > 0
	reason := data.seaworthy.lib.reason(
		"license.copyleft",
		sprintf("%d component(s) under strong copyleft: %s", [count(_copyleft), _list(_copyleft)]),
		"Check that distributing the image meets these licenses' terms (source offer), or replace the components.",
		_fps(_copyleft),
	)
}

_list(cs) := s if {
	shown := [_label(c) | some c in array.slice(cs, 0, 10)]
	rest := count(cs) - count(shown)
	s := data.seaworthy.lib.with_rest(concat(", ", shown), rest)
}
