# METADATA
# title: ADD of a remote URL without a checksum
# description: "`ADD https://…` downloads at build time whatever the server returns and puts it in the image, unverified. BuildKit's `ADD --checksum=sha256:…` verifies it; otherwise download in a RUN step and check the file's digest."
# scope: package
# schemas:
# - input: schema["dockerfile"]
# custom:
#   id: SW-DS-005
#   avd_id: SW-DS-005
#   severity: MEDIUM
#   recommended_action: "Use `ADD --checksum=sha256:<digest> <url> <dest>`, or download with curl and verify with sha256sum before use"
#   input:
#     selector:
#     - type: dockerfile
package seaworthy.dockerfile.SW_DS_005

import rego.v1

remote(src) if regex.match(`^(?i)(https?|ftp)://`, src)

remote(src) if regex.match(`^(git@|git://|ssh://)`, src)

has_checksum(cmd) if {
	some flag in cmd.Flags
	startswith(flag, "--checksum=")
}

deny contains res if {
	some stage in input.Stages
	some cmd in stage.Commands
	cmd.Cmd == "add"
	count(cmd.Value) >= 2
	some src in array.slice(cmd.Value, 0, count(cmd.Value) - 1)
	remote(src)
	not has_checksum(cmd)
	res := {
		"msg": sprintf("ADD downloads %s at build time without verifying it (no --checksum)", [src]),
		"startline": cmd.StartLine,
		"endline": cmd.EndLine,
		"filepath": cmd.Path,
	}
}
