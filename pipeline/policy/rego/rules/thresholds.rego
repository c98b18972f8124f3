# Severity thresholds per category (input.config.thresholds; null = off), with the fixable-only switch.
# Rule ids: threshold.<category>, e.g. threshold.sast, threshold.secret.
package seaworthy.rules.thresholds

import rego.v1

remedies := {
	"sast": "Fix the flagged code, or record a reviewed exception (owner, reason, expiry) for a false positive.",
	"secret": "Remove the secret from the tree (and its history), rotate it: treat it as leaked. Load secrets at run time instead.",
	"dependency": "Upgrade the packages to the fixed versions shown and regenerate the lock file.",
	"misconfiguration": "Change the Dockerfile/IaC as each rule describes.",
	"image-vulnerability": "Rebuild on a patched base image, or upgrade the affected packages to their fixed versions.",
	"license": "Replace the component, or record a reviewed exception.",
}

_floor("UNKNOWN") := "any severity"

_floor(limit) := sprintf("%s or above", [upper(limit)]) if upper(limit) != "UNKNOWN"

_fixable_note(category) := " with a fix available" if {
	data.seaworthy.lib.config.fixable_only
	category in data.seaworthy.lib.vulnerability_categories
} else := ""

deny contains reason if {
	some category, limit in data.seaworthy.lib.config.thresholds
	is_string(limit)
	hits := [f | some f in data.seaworthy.lib.over_threshold; f.category == category]
	count(hits) > 0
	reason := data.seaworthy.lib.reason(
		sprintf("threshold.%s", [category]),
		sprintf("%d %s finding(s) at %s%s: %s", [
			count(hits), category, _floor(limit), _fixable_note(category), data.seaworthy.lib.summary(hits, 5),
		]),
		object.get(remedies, category, "Fix the findings, or record a reviewed exception."),
		data.seaworthy.lib.fingerprints(hits),
	)
}
