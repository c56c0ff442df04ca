package convert

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
)

// destFormats are the formats Convert writes, by qemu-img's names (qemu-img(1),
// "Disk image file formats"), in the order error messages list them.
var destFormats = []string{"raw", "qcow2", "qed", "vdi", "vhdx", "vmdk", "vpc"}

// readOnlyFormats are formats qemu-img reads but that Convert does not write:
// obsolete (qcow) or foreign formats qemu-img cannot create (dmg, bochs, cloop),
// and parallels.
var readOnlyFormats = []string{"qcow", "parallels", "dmg", "bochs", "cloop"}

// formatAliases maps other tools' names to qemu-img's: Glance, VirtualBox and
// Hyper-V call qemu-img's "vpc" format "vhd"; an ISO 9660 image is raw data
// to qemu-img.
var formatAliases = map[string]string{"vhd": "vpc"}

// srcOnlyAliases are aliases accepted for a source only.
var srcOnlyAliases = map[string]string{"iso": "raw"}

// DestFormats returns the format names Request.DestFormat accepts: qemu-img's
// raw, qcow2, qed, vdi, vhdx, vmdk and vpc, then "vhd" (another name for vpc).
// The slice is a copy.
func DestFormats() []string {
	return append(append([]string{}, destFormats...), "vhd")
}

// SrcFormats returns the format names Request.SrcFormat accepts: every
// DestFormats name, qemu-img's read-only formats qcow, parallels, dmg, bochs
// and cloop, and "iso" (read as raw). The slice is a copy.
func SrcFormats() []string {
	out := append(append([]string{}, destFormats...), readOnlyFormats...)
	return append(out, "vhd", "iso")
}

// CanonicalFormat returns qemu-img's name for format: "vpc" for "vhd", "raw"
// for "iso", format itself otherwise. It does not check that format exists.
func CanonicalFormat(format string) string {
	if name, ok := formatAliases[format]; ok {
		return name
	}
	if name, ok := srcOnlyAliases[format]; ok {
		return name
	}
	return format
}

// checkDestFormat returns qemu-img's name for a dest_format, or an error
// listing the accepted names.
func checkDestFormat(format string) (string, error) {
	if format == "" {
		return "", fmt.Errorf("dest_format is empty: expected one of %s", strings.Join(DestFormats(), ", "))
	}
	if name, ok := formatAliases[format]; ok {
		return name, nil
	}
	if contains(destFormats, format) {
		return format, nil
	}
	hint := ""
	if contains(readOnlyFormats, format) {
		hint = " (qemu-img reads " + format + " but convert does not write it)"
	}
	return "", fmt.Errorf("dest_format %q is not supported%s: expected one of %s",
		format, hint, strings.Join(DestFormats(), ", "))
}

// checkSrcFormat returns qemu-img's name for a src_format ("" stays ""), or an
// error listing the accepted names.
func checkSrcFormat(format string) (string, error) {
	if format == "" {
		return "", nil
	}
	name := CanonicalFormat(format)
	if contains(destFormats, name) || contains(readOnlyFormats, name) {
		return name, nil
	}
	return "", fmt.Errorf("src_format %q is not supported: expected one of %s, or leave src_format empty to detect the format",
		format, strings.Join(SrcFormats(), ", "))
}

func contains(list []string, item string) bool {
	for _, x := range list {
		if x == item {
			return true
		}
	}
	return false
}

// builtFormats caches, per qemu-img binary, the format drivers it was built
// with; qemu-img's help text lists them on its "Supported formats:" line.
var builtFormats sync.Map // qemu-img path -> []string

// supportedByQemuImg fails when the qemu-img at path was built without the
// driver for format, naming the formats it does support. A help text without
// the list (a qemu-img we do not understand) is not an error: qemu-img itself
// will then report a missing driver.
func supportedByQemuImg(ctx context.Context, path, format, field string) error {
	known, ok := builtFormats.Load(path)
	if !ok {
		// qemu-img --help exits 0 and prints the list on stdout.
		out, err := exec.CommandContext(ctx, path, "--help").Output()
		if err != nil {
			return fmt.Errorf("running %s --help: %w", path, err)
		}
		known = parseSupportedFormats(string(out))
		builtFormats.Store(path, known)
	}
	formats := known.([]string)
	if len(formats) == 0 || contains(formats, format) {
		return nil
	}
	var usable []string
	for _, f := range append(append([]string{}, destFormats...), readOnlyFormats...) {
		if contains(formats, f) {
			usable = append(usable, f)
		}
	}
	return fmt.Errorf("%s %q: the installed qemu-img (%s) was built without the %s driver; it supports %s",
		field, format, path, format, strings.Join(usable, ", "))
}

// parseSupportedFormats returns the words after "Supported formats:" in
// qemu-img's help text, or nil when the line is missing.
func parseSupportedFormats(help string) []string {
	for _, line := range strings.Split(help, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Supported formats:"); ok {
			return strings.Fields(rest)
		}
	}
	return nil
}
