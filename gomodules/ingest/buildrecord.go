package ingest

import (
	"fmt"

	"github.com/imageops/cloud/gomodules/buildrecord"
	"github.com/imageops/cloud/gomodules/fetch"
)

// applyBuildRecord reads the build record image_build wrote beside a local
// source (<name>.build.json, see package buildrecord). When the record lists
// the source's file, its key facts become build_* properties (a property the
// task sets keeps the task's value), and its digests are checked against the
// data as it is read: each is a checksum unless the task gives one of its
// algorithm, and a checksum the task gives must agree with them, so that the facts never
// land on an image the record does not describe. A record that does not list
// the file gives a warning and no properties.
func (d *desired) applyBuildRecord() error {
	path, ok := fetch.LocalPath(d.SourceURL)
	if !ok || d.State != "present" {
		return nil
	}
	rec, out, err := buildrecord.Beside(path)
	if err != nil {
		return fmt.Errorf("source_url %q: %w", path, err)
	}
	if rec == nil {
		return nil
	}
	if out == nil {
		d.warnings = append(d.warnings, fmt.Sprintf("build record %s lists no output named like %s: no build_* properties",
			buildrecord.PathBeside(path), path))
		return nil
	}
	recorded := map[fetch.Algorithm]string{fetch.SHA256: out.SHA256, fetch.SHA512: out.SHA512}
	given := map[fetch.Algorithm]bool{}
	for _, sum := range d.checksums {
		given[sum.Algorithm] = true
		if want := recorded[sum.Algorithm]; want != "" && sum.Hex != "" && sum.Hex != want {
			return fmt.Errorf("checksum %s of %s differs from its build record %s, which says %s:%s: "+
				"the record does not describe this file (build the image again, or remove the record)",
				sum, path, buildrecord.PathBeside(path), sum.Algorithm, want)
		}
	}
	for _, algorithm := range []fetch.Algorithm{fetch.SHA256, fetch.SHA512} {
		if recorded[algorithm] != "" && !given[algorithm] {
			d.checksums = append(d.checksums, fetch.Checksum{Algorithm: algorithm, Hex: recorded[algorithm]})
		}
	}
	for key, value := range buildrecord.GlanceProperties(*rec) {
		if _, set := d.properties[key]; !set {
			d.properties[key] = value
		}
	}
	return nil
}
