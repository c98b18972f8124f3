# METADATA
# title: Base image not pinned by digest
# description: "A FROM that names a tag (or nothing) gets whatever the registry serves on the day of the build: the base can change, or be replaced, between two builds of the same commit. ARG defaults before the first FROM and the build arguments Seaworthy builds with (data.seaworthy_input.build_args) are resolved first, so `ARG BASE=python:3.12@sha256:…` / `FROM ${BASE}` counts as pinned."
# scope: package
# schemas:
# - input: schema["dockerfile"]
# custom:
#   id: SW-DS-004
#   avd_id: SW-DS-004
#   severity: MEDIUM
#   recommended_action: "Pin the base by digest: FROM name:tag@sha256:<digest> (or give the digest in the ARG the FROM uses)"
#   input:
#     selector:
#     - type: dockerfile
package seaworthy.dockerfile.SW_DS_004

import rego.v1

default build_args := {}

build_args := data.seaworthy_input.build_args

# ARGs declared before the first FROM (trivy puts them in a first stage without a FROM)
global_args[name] := value if {
	first := input.Stages[0]
	not has_from(first)
	some cmd in first.Commands
	cmd.Cmd == "arg"
	some decl in cmd.Value
	parts := split(decl, "=")
	name := parts[0]
	value := arg_value(name, parts)
}

arg_value(name, _) := build_args[name]

arg_value(name, parts) := trim(concat("=", array.slice(parts, 1, count(parts))), "\"'") if {
	not build_args[name]
	count(parts) > 1
}

has_from(stage) if {
	some cmd in stage.Commands
	cmd.Cmd == "from"
}

# ${NAME}, ${NAME:-default} and $NAME, replaced by the global ARG's value (else the default, else nothing)
expand(ref) := strings.replace_n(object.union(braced(ref), bare(ref)), ref)

braced(ref) := {m[0]: arg_or_default(m[1], m[2]) |
	some m in regex.find_all_string_submatch_n(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`, ref, -1)
}

bare(ref) := {m[0]: arg_or_default(m[1], "") |
	some m in regex.find_all_string_submatch_n(`\$([A-Za-z_][A-Za-z0-9_]*)`, ref, -1)
}

arg_or_default(name, _) := global_args[name] if global_args[name] != ""

arg_or_default(name, default_value) := default_value if not global_args[name]

arg_or_default(name, default_value) := default_value if global_args[name] == ""

stage_names contains lower(cmd.Value[2]) if {
	some stage in input.Stages
	some cmd in stage.Commands
	cmd.Cmd == "from"
	count(cmd.Value) >= 3
	lower(cmd.Value[1]) == "as"
}

pinned(ref) if regex.match(`@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`, ref)

deny contains res if {
	some stage in input.Stages
	some cmd in stage.Commands
	cmd.Cmd == "from"
	raw := cmd.Value[0]
	ref := expand(raw)
	lower(ref) != "scratch"
	not lower(ref) in stage_names
	not pinned(ref)
	shown := ref_text(raw, ref)
	res := {
		"msg": sprintf("base image %s is not pinned by digest (name:tag@sha256:…)", [shown]),
		"startline": cmd.StartLine,
		"endline": cmd.EndLine,
		"filepath": cmd.Path,
	}
}

ref_text(raw, ref) := sprintf("'%s'", [raw]) if raw == ref

ref_text(raw, ref) := sprintf("'%s' (resolved to '%s')", [raw, ref]) if {
	raw != ref
	ref != ""
}

ref_text(raw, ref) := sprintf("'%s' (resolves to nothing: the ARG has no default)", [raw]) if {
	raw != ref
	ref == ""
}
