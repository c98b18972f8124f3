# METADATA
# title: Downloaded script or binary run without a checksum
# description: "A RUN that pipes a download into a shell (`curl … | sh`, `wget -O- … | bash`, `bash <(curl …)`, `sh -c $(curl …)`) or downloads a file and runs it (`curl -o x … && sh x`, `wget … && ./x`, `chmod +x`) without checking its digest or signature (sha256sum -c, shasum, gpg --verify, cosign verify) runs whatever the server, or anyone on the way, sends."
# scope: package
# schemas:
# - input: schema["dockerfile"]
# custom:
#   id: SW-DS-006
#   avd_id: SW-DS-006
#   severity: HIGH
#   recommended_action: "Download to a file, verify it (echo '<sha256>  file' | sha256sum -c -, or gpg --verify) and only then run it; or install the tool from the distribution's packages"
#   input:
#     selector:
#     - type: dockerfile
package seaworthy.dockerfile.SW_DS_006

import rego.v1

script(cmd) := concat(" ", cmd.Value)

downloads(text) if regex.match(`(^|[\s;&|(])(curl|wget)\s`, text)

# curl … | sh, wget -qO- … | sudo bash, … | python3 -
piped(text) if regex.match(`(curl|wget)\s[^;&|]*\|\s*(sudo\s+(-\S+\s+)*)?(env\s+\S+=\S+\s+)*(sh|bash|zsh|dash|ash|ksh|python[0-9.]*|perl|ruby|node)(\s|$)`, text)

# bash <(curl …), sh -c "$(curl …)", eval "$(wget -qO- …)"
piped(text) if regex.match(`(sh|bash|zsh|dash|ash|ksh)\s+(-\S+\s+)*<\(\s*(curl|wget)\s`, text)

piped(text) if regex.match(`((sh|bash|zsh|dash|ash|ksh|python[0-9.]*|perl|ruby|node)\s+-c|eval)\s+["']?\$\(\s*(curl|wget)\s`, text)

# a downloaded file made executable or run: chmod +x, sh file, bash file, ./file, source file
executes(text) if regex.match(`(^|[\s;&|(])(chmod\s+(-\S+\s+)*([0-7]*[1357][0-7]*|[ugoa]*\+[rwX]*x[rwX]*)\s|(sh|bash|zsh|dash|ash)\s+[^-\s]|\.\s+/|source\s+\S|\./[A-Za-z0-9_.-]+)`, text)

verified(text) if regex.match(`(sha(1|224|256|384|512)sum|shasum|b2sum|gpg(v|2)?\s+(\S+\s+)*--verify|gpgv|cosign\s+verify|minisign\s+-V|--checksum)`, text)

deny contains res if {
	some stage in input.Stages
	some cmd in stage.Commands
	cmd.Cmd == "run"
	text := script(cmd)
	downloads(text)
	piped(text)
	res := {
		"msg": "a download is piped straight into an interpreter: nothing checks what is run",
		"startline": cmd.StartLine,
		"endline": cmd.EndLine,
		"filepath": cmd.Path,
	}
}

deny contains res if {
	some stage in input.Stages
	some cmd in stage.Commands
	cmd.Cmd == "run"
	text := script(cmd)
	downloads(text)
	not piped(text)
	executes(text)
	not verified(text)
	res := {
		"msg": "a downloaded file is made executable or run without a checksum or signature check (sha256sum -c, gpg --verify)",
		"startline": cmd.StartLine,
		"endline": cmd.EndLine,
		"filepath": cmd.Path,
	}
}
