# What the SAST scanners looked at (input.coverage, one entry per scanner that reports it): a language with
# source files and no SAST rule at all means "0 SAST findings" says nothing about that code.
package seaworthy.rules.coverage

import rego.v1

_sast := [c | some _, c in object.get(input, "coverage", {}); c.kind == "sast"]

_files := {lang: n |
	some c in _sast
	some lang, _ in c.languages
	n := sum([object.get(d.languages, lang, 0) | some d in _sast])
	n > 0
}

_covered(lang) if {
	some c in _sast
	object.get(c.rules, lang, 0) > 0
}

# A scanner ran rules whose languages were not counted (registry packs, rules of your own): it may cover any.
_unknown if {
	some c in _sast
	c.rules_known == false
}

_uncovered := sort([lang | some lang, _ in _files; not _covered(lang)])

warn contains reason if {
	not _unknown
	count(_uncovered) > 0
	shown := [sprintf("%s (%d file(s))", [lang, _files[lang]]) | some lang in _uncovered]
	reason := data.seaworthy.lib.reason(
		"sast.no-coverage",
		sprintf("no SAST rule looked at %s: no SAST finding there means nothing", [concat(", ", shown)]),
		"Add SAST rules for these languages (scan.semgrep.rules in seaworthy.toml, or registry packs such as p/golang), or skip the paths that are not yours.",
		[],
	)
}
