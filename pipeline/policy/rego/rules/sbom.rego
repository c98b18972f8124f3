# The SBOM of the image must list something. Does not fire when no SBOM was made (source-only scans).
package seaworthy.rules.sbom

import rego.v1

deny contains reason if {
	is_object(input.sbom)
	input.sbom.components_count == 0
	reason := data.seaworthy.lib.reason(
		"sbom.empty",
		sprintf("the %s SBOM from %s lists no components", [input.sbom.format, _tool(input.sbom.tool)]),
		"Check that the SBOM generator reads the built image (not an empty directory) and that the image has a package database.",
		[],
	)
}

_tool("") := "the generator"

_tool(t) := t if t != ""
