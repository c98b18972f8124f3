# Every relaxation shows in the verdict (issue 8): a `config.relaxed` warning for each knob that makes the
# gate or the scan weaker than the defaults, naming the seaworthy.toml key that asked for it.
# Gate-side knobs are derived here from input.config itself (whoever built the input); scan-side knobs that
# only the pipeline knows (scanners left out, skipped paths, …) arrive as input.config.relaxations.
package seaworthy.rules.relaxations

import rego.v1

# The defaults (mirrored by pipeline.policy.config; a test keeps them equal).
default_thresholds := {
	"dependency": "HIGH",
	"image-vulnerability": "HIGH",
	"license": "HIGH",
	"misconfiguration": "HIGH",
	"sast": "HIGH",
	"secret": "UNKNOWN",
}

default_required_labels := {"org.opencontainers.image.revision", "org.opencontainers.image.source"}

_config := data.seaworthy.lib.config

_source := object.get(_config, "source", "seaworthy.toml")

_ranks := data.seaworthy.lib.ranks

_relaxed(key, what, remedy) := data.seaworthy.lib.reason(
	"config.relaxed",
	sprintf("%s: %s relaxes the gate: %s", [_source, key, what]),
	remedy,
	[],
)

# A threshold looser than the default, switched off, or missing.
warn contains reason if {
	some category, default_limit in default_thresholds
	limit := object.get(object.get(_config, "thresholds", {}), category, null)
	not _as_strict(limit, default_limit)
	reason := _relaxed(
		sprintf("gate.thresholds.%s = %s", [category, _shown(limit)]),
		_threshold_effect(category, limit),
		sprintf("Remove gate.thresholds.%s from %s to gate at the default (%s), unless this was reviewed.", [category, _source, _floor(default_limit)]),
	)
}

_as_strict(limit, default_limit) if {
	is_string(limit)
	_ranks[upper(limit)] <= _ranks[default_limit]
}

_shown(limit) := sprintf("%q", [limit]) if is_string(limit)

_shown(limit) := "off" if not is_string(limit)

_floor("UNKNOWN") := "any severity"

_floor(limit) := limit if limit != "UNKNOWN"

_threshold_effect(category, limit) := sprintf("no %s finding fails the gate", [category]) if not is_string(limit)

_threshold_effect(category, limit) := sprintf("%s findings below %s do not fail the gate", [category, upper(limit)]) if is_string(limit)

warn contains reason if {
	object.get(_config, "fixable_only", false) == true
	reason := _relaxed(
		"gate.fixable_only = true",
		"dependency and image-vulnerability findings without a fixed version do not fail the gate",
		sprintf("Remove gate.fixable_only from %s to gate on every vulnerability, unless this was reviewed.", [_source]),
	)
}

warn contains reason if {
	required := {l | some l in object.get(_config, "required_labels", [])}
	count(required) == 0
	reason := _relaxed(
		"gate.required_labels = []",
		"the image.labels rule is off: no label is required",
		sprintf("Remove gate.required_labels from %s to require %s.", [_source, concat(" and ", sort(default_required_labels))]),
	)
}

warn contains reason if {
	required := {l | some l in object.get(_config, "required_labels", [])}
	count(required) > 0
	missing := default_required_labels - required
	count(missing) > 0
	reason := _relaxed(
		"gate.required_labels",
		sprintf("the default label(s) %s are not required", [concat(", ", sort(missing))]),
		sprintf("Add %s to gate.required_labels in %s.", [concat(", ", sort(missing)), _source]),
	)
}

# Relaxations only the pipeline knows (pipeline.config.Config.relaxations).
warn contains reason if {
	some r in object.get(_config, "relaxations", [])
	reason := _relaxed(
		r.key,
		r.relaxed,
		sprintf("Remove %s from %s to get the default, unless this was reviewed.", [r.key, _source]),
	)
}
