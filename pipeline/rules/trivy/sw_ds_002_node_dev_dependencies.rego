# METADATA
# title: Node dev dependencies installed in the final image
# description: "An npm/yarn/pnpm install in the last stage without --omit=dev (--production, --prod) and without NODE_ENV=production ships the project's dev dependencies (test runners, build tools) in the image: more code, more vulnerabilities. Dev dependencies in an earlier build stage are fine; with a build target, that stage is the final one."
# scope: package
# schemas:
# - input: schema["dockerfile"]
# custom:
#   id: SW-DS-002
#   avd_id: SW-DS-002
#   severity: MEDIUM
#   recommended_action: "Install with `npm ci --omit=dev` (yarn: --production, pnpm: --prod), or build in an earlier stage and copy only the output"
#   input:
#     selector:
#     - type: dockerfile
package seaworthy.dockerfile.SW_DS_002

import rego.v1

segments(run) := [trim_space(s) | some s in regex.split(`&&|\|\||;|\|`, concat(" ", run.Value))]

installs(seg) if regex.match(`^(\S+=\S+\s+)*npm\s+(ci|install|i|clean-install)(\s|$)`, seg)

installs(seg) if yarn_install(seg)

installs(seg) if regex.match(`^(\S+=\S+\s+)*pnpm\s+(install|i)(\s|$)`, seg)

without_dev(seg) if regex.match(`\s(--omit[= ]dev|--only[= ]prod(uction)?|--production|--prod|-P)(\s|=|$)`, seg)

without_dev(seg) if regex.match(`(^|\s)NODE_ENV=("|')?production`, seg)

global_install(seg) if regex.match(`\s(-g|--global)(\s|$)`, seg)

# ENV NODE_ENV=production (or ARG with that default) earlier in the same stage
production_env(stage, line) if {
	some cmd in stage.Commands
	cmd.Cmd in {"env", "arg"}
	cmd.StartLine < line
	regex.match(`(^|\s)NODE_ENV[= ]("|')?production`, concat(" ", cmd.Value))
}

# The stage that becomes the image: the last one, or the build target when this is the Dockerfile that is built
# with one (data.seaworthy_input.target = {"dockerfile": path, "stage": name}).
default target := {"dockerfile": "", "stage": ""}

target := data.seaworthy_input.target

this_path := p if {
	some stage in input.Stages
	some cmd in stage.Commands
	p := cmd.Path
}

final_stage := s if {
	target.stage != ""
	this_path == target.dockerfile
	some s in input.Stages
	some cmd in s.Commands
	cmd.Cmd == "from"
	count(cmd.Value) >= 3
	lower(cmd.Value[1]) == "as"
	lower(cmd.Value[2]) == lower(target.stage)
} else := input.Stages[count(input.Stages) - 1]

deny contains res if {
	some cmd in final_stage.Commands
	cmd.Cmd == "run"
	some seg in segments(cmd)
	installs(seg)
	not without_dev(seg)
	not global_install(seg)
	not production_env(final_stage, cmd.StartLine)
	res := {
		"msg": sprintf("the final stage installs Node dev dependencies (no --omit=dev / --production, no NODE_ENV=production): %s", [seg]),
		"startline": cmd.StartLine,
		"endline": cmd.EndLine,
		"filepath": cmd.Path,
	}
}

# `yarn` alone or `yarn install`, with install flags only (not `yarn --version`, `yarn add x`, `yarn build`)
yarn_install(seg) if {
	regex.match(`^(\S+=\S+\s+)*yarn(\s+install)?(\s+-\S+)*\s*$`, seg)
	not regex.match(`\s(-v|--version|-h|--help)(\s|$)`, seg)
}
