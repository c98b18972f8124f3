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

# The findings of data.seaworthy.lib.over_threshold in `category`: count, summary and fingerprints.
# Hot path: the category's indexes in input.findings (lib.over_threshold_at, grouped in the one pass over
# every finding) instead of a pass over over_threshold per category; only the first five findings are taken
# for the summary. tests/unit/test_rego_hot_paths.py checks it against the plain definition.
deny contains reason if {
	some category, limit in data.seaworthy.lib.config.thresholds
	is_string(limit)
	at := data.seaworthy.lib.over_threshold_at(category)
	count(at) > 0
	fs := input.findings
	shown := [fs[i] | some i in array.slice(at, 0, 5)]
	reason := data.seaworthy.lib.reason(
		sprintf("threshold.%s", [category]),
		sprintf("%d %s finding(s) at %s%s: %s", [
			count(at), category, _floor(limit), _fixable_note(category), data.seaworthy.lib.summary_of_first(shown, count(at)),
		]),
		object.get(remedies, category, "Fix the findings, or record a reviewed exception."),
		sort([fs[i].fingerprint | some i in at]),
	)
}
