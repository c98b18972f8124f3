# Exceptions are reviewed, owned, temporary waivers. One that runs for more than a year after today
# (e.g. expires = 9999-12-31) is a permanent waiver in disguise: it shows as a warning in every verdict.
# (Expired exceptions deny: gate.rego, `exception.expired`.)
package seaworthy.rules.exceptions

import rego.v1

# The same day one year after input.today, as YYYY-MM-DD text (dates compare as text).
horizon := sprintf("%04d%s", [to_number(substring(input.today, 0, 4)) + 1, substring(input.today, 4, 6)])

warn contains reason if {
	some e in input.exceptions
	e.expires > horizon
	reason := data.seaworthy.lib.reason(
		"exception.long-lived",
		sprintf(
			"%s (%s, owner %s) expires on %s, more than a year after %s: it waives like a permanent switch",
			[e.name, concat(", ", e.targets), e.owner, e.expires, input.today],
		),
		sprintf("Set %s's expires to a date within a year (by %s) and review it again then.", [e.name, horizon]),
		[],
	)
}
