# METADATA
# title: Node packages installed without the lock file
# description: "`npm install`, `yarn install` (without --frozen-lockfile/--immutable) and `pnpm install` (without --frozen-lockfile) resolve versions at build time, so the image may get packages nobody reviewed. Install exactly what the lock file says."
# scope: package
# schemas:
# - input: schema["dockerfile"]
# custom:
#   id: SW-DS-001
#   avd_id: SW-DS-001
#   severity: MEDIUM
#   recommended_action: "Use `npm ci` (or `yarn install --frozen-lockfile` / `yarn install --immutable`, `pnpm install --frozen-lockfile`) with the lock file copied in first"
#   input:
#     selector:
#     - type: dockerfile
package seaworthy.dockerfile.SW_DS_001

import rego.v1

# one shell command of a RUN line: split on && || ; and |
segments(run) := [trim_space(s) | some s in regex.split(`&&|\|\||;|\|`, concat(" ", run.Value))]

# npm install / npm i without package names (installs from package.json), never a global tool install
unlocked(seg) := "npm install" if {
	regex.match(`^(\S+=\S+\s+)*npm\s+(install|i|add)(\s|$)`, seg)
	not regex.match(`\s(-g|--global)(\s|$)`, seg)
}

unlocked(seg) := "yarn install" if {
	yarn_install(seg)
	not regex.match(`\s(--frozen-lockfile|--immutable)(\s|$)`, seg)
}

unlocked(seg) := "pnpm install" if {
	regex.match(`^(\S+=\S+\s+)*pnpm\s+(install|i)(\s|$)`, seg)
	not regex.match(`\s--frozen-lockfile(\s|$)`, seg)
}

deny contains res if {
	some stage in input.Stages
	some cmd in stage.Commands
	cmd.Cmd == "run"
	some seg in segments(cmd)
	tool := unlocked(seg)
	res := {
		"msg": sprintf("'%s' resolves package versions at build time instead of installing the lock file: %s", [tool, seg]),
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
