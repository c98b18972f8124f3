# METADATA
# title: Whole build context copied with no .dockerignore
# description: "`COPY . .` (or `ADD . …`) copies everything in the build context into the image. Without a .dockerignore that includes .git, .env files, credentials and local build output. Seaworthy tells this check which .dockerignore files the tree has (data.seaworthy_input.dockerignore, written by the scan stage)."
# scope: package
# schemas:
# - input: schema["dockerfile"]
# custom:
#   id: SW-DS-003
#   avd_id: SW-DS-003
#   severity: MEDIUM
#   recommended_action: "Add a .dockerignore next to the Dockerfile or at the context root (ignore at least .git, .env*, secrets and build output), or copy only the files the image needs"
#   input:
#     selector:
#     - type: dockerfile
package seaworthy.dockerfile.SW_DS_003

import rego.v1

# The .dockerignore files of the tree, relative to its root. Without the list (check run outside Seaworthy's
# scan stage) nothing is known to exclude anything: the check reports.
default ignore_files := []

ignore_files := data.seaworthy_input.dockerignore

dir_of(path) := d if {
	parts := split(path, "/")
	count(parts) > 1
	d := concat("/", array.slice(parts, 0, count(parts) - 1))
}

has_ignore(path) if ".dockerignore" in ignore_files

has_ignore(path) if sprintf("%s/.dockerignore", [dir_of(path)]) in ignore_files

has_ignore(path) if sprintf("%s.dockerignore", [path]) in ignore_files

from_stage(cmd) if {
	some flag in cmd.Flags
	startswith(flag, "--from")
}

whole_context(src) if src in {".", "./", "*", "./*"}

deny contains res if {
	some stage in input.Stages
	some cmd in stage.Commands
	cmd.Cmd in {"copy", "add"}
	not from_stage(cmd)
	count(cmd.Value) >= 2
	some src in array.slice(cmd.Value, 0, count(cmd.Value) - 1)
	whole_context(src)
	not has_ignore(cmd.Path)
	res := {
		"msg": sprintf("'%s' copies the whole build context and there is no .dockerignore (at the root, next to %s, or %s.dockerignore)", [cmd.Original, cmd.Path, cmd.Path]),
		"startline": cmd.StartLine,
		"endline": cmd.EndLine,
		"filepath": cmd.Path,
	}
}
