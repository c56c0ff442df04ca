package buildrecord

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/imageops/cloud/gomodules/redact"
)

// PropertyPrefix starts the name of every Glance property GlanceProperties
// makes.
const PropertyPrefix = "build_"

// maxPropertyLength is the longest value Glance stores in an image
// property (its database column is 255 characters).
const maxPropertyLength = 255

// GlanceProperties are the record's key facts as Glance image properties,
// so that a cloud can tell what is in an image:
//
//	build_tool, build_tool_version   the builder and its recipe's version
//	build_spec_sha256                the spec's digest (equal specs, equal digests)
//	build_name, build_distribution, build_release   from the spec's variables
//	build_mirror                     the apt archive the packages came from (credentials hidden)
//	build_kernel                     the installed kernel's release
//	build_source_date_epoch          the epoch the files were stamped with
//	build_packages                   how many packages are installed
//	build_packages_sha256            the digest of the sorted "name=version" lines
//	build_cloud_init                 cloud-init's version, when installed
//
// Values longer than Glance keeps (255 characters) are cut; a fact the
// record does not hold is left out.
func GlanceProperties(r Record) map[string]string {
	props := map[string]string{
		"tool": r.Tool, "tool_version": r.ToolVersion, "spec_sha256": r.SpecSHA256,
		"mirror": redact.URL(r.Mirror), "kernel": r.Kernel, "cloud_init": r.Packages["cloud-init"],
	}
	for _, name := range []string{"name", "distribution", "release"} {
		if v, ok := r.Variables[name]; ok && v.Value != nil {
			props[name] = fmt.Sprint(v.Value)
		}
	}
	if r.SourceDateEpoch > 0 {
		props["source_date_epoch"] = strconv.FormatInt(r.SourceDateEpoch, 10)
	}
	if len(r.Packages) > 0 {
		props["packages"] = strconv.Itoa(len(r.Packages))
		props["packages_sha256"] = packagesDigest(r.Packages)
	}
	out := map[string]string{}
	for key, value := range props {
		if value == "" {
			continue
		}
		if len(value) > maxPropertyLength {
			value = value[:maxPropertyLength]
		}
		out[PropertyPrefix+key] = value
	}
	return out
}

// packagesDigest is the hex SHA-256 of the sorted "name=version\n" lines.
func packagesDigest(packages map[string]string) string {
	var lines strings.Builder
	for _, name := range sortedKeys(packages) {
		lines.WriteString(name + "=" + packages[name] + "\n")
	}
	sum := sha256.Sum256([]byte(lines.String()))
	return hex.EncodeToString(sum[:])
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
