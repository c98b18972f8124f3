# Facts about the built image. Nothing here fires when no image was built or inspected (source-only scans).
package seaworthy.rules.image

import rego.v1

deny contains reason if {
	some img in input.images
	img.runs_as_root
	reason := data.seaworthy.lib.reason(
		"image.root-user",
		sprintf("the image runs as root (USER %s) on %s", [_user(img.user), img.platform]),
		"Add a non-root USER to the final stage of the Dockerfile (e.g. USER 65532:65532) and make the files it needs readable by it.",
		[],
	)
}

_user("") := "not set"

_user(u) := sprintf("%q", [u]) if u != ""

deny contains reason if {
	some img in input.images
	img.base_pin == "none"
	reason := data.seaworthy.lib.reason(
		"image.base-unpinned",
		sprintf("the base image %q has no tag or uses latest: it moves under your feet", [img.base_image]),
		"Pin the final FROM to a version tag and a digest: FROM image:1.2.3@sha256:…",
		[],
	)
}

warn contains reason if {
	some img in input.images
	img.base_pin == "tag"
	reason := data.seaworthy.lib.reason(
		"image.base-no-digest",
		sprintf("the base image %q is pinned by tag only; a tag can be re-pushed", [img.base_image]),
		"Add the digest to the final FROM: FROM image:tag@sha256:… (and let a bot update it).",
		[],
	)
}

deny contains reason if {
	some img in input.images
	missing := sort([l | some l in data.seaworthy.lib.config.required_labels; not _has_label(img, l)])
	count(missing) > 0
	reason := data.seaworthy.lib.reason(
		"image.labels",
		sprintf("the image lacks required label(s): %s", [concat(", ", missing)]),
		"Set them at build time (LABEL in the Dockerfile or the build's labels), e.g. org.opencontainers.image.source and .revision.",
		[],
	)
}

_has_label(img, l) if {
	value := img.labels[l]
	trim_space(value) != ""
}

# The image that was scanned must be the image that was built (build once).
deny contains reason if {
	is_object(input.build)
	some img in input.images
	built := object.get(input.build.config_digests, img.platform, "")
	built != img.config_digest
	reason := data.seaworthy.lib.reason(
		"image.digest-mismatch",
		sprintf("the scanned image config %s (%s) is not the one built (%s)", [img.config_digest, img.platform, _or_none(built)]),
		"Scan, attest and publish the container the build returned; never rebuild or re-pull between stages.",
		[],
	)
}

deny contains reason if {
	is_object(input.build)
	count(input.images) > 0
	some platform, digest in input.build.config_digests
	scanned := {img.platform | some img in input.images}
	not platform in scanned
	reason := data.seaworthy.lib.reason(
		"image.digest-mismatch",
		sprintf("the image built for %s (%s) was not inspected", [platform, digest]),
		"Inspect and scan every platform the build produced.",
		[],
	)
}

_or_none("") := "nothing built for that platform"

_or_none(d) := d if d != ""
