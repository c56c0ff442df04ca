package imagebuild

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// hostTool is a program a build runs, and the Debian package that has it.
type hostTool struct{ program, pkg string }

// baseTools are run by every build; isoTools by a build with formats: [iso].
var (
	baseTools = []hostTool{{"mmdebstrap", "mmdebstrap"}, {"mkfs.vfat", "dosfstools"}, {"mcopy", "mtools"},
		{"mke2fs", "e2fsprogs"}, {"debugfs", "e2fsprogs"}, {"dumpe2fs", "e2fsprogs"}, {"sfdisk", "fdisk"},
		{"grub-mkimage", "grub-common"}, {"qemu-img", "qemu-utils"}}
	isoTools = []hostTool{{"mksquashfs", "squashfs-tools"}, {"xorriso", "xorriso"}}
)

// checkHostTools fails before anything is downloaded when a program the
// build needs is not installed, naming the Debian packages to install.
func (c Config) checkHostTools() error {
	tools := baseTools
	if slices.Contains(c.Formats, "iso") {
		tools = append(append([]hostTool{}, baseTools...), isoTools...)
	}
	var missing, packages []string
	for _, t := range tools {
		if _, err := exec.LookPath(t.program); err != nil {
			missing = append(missing, t.program)
			if !slices.Contains(packages, t.pkg) {
				packages = append(packages, t.pkg)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(grubPCDir, "boot.img")); err != nil {
		missing, packages = append(missing, filepath.Join(grubPCDir, "boot.img")), append(packages, "grub-pc-bin")
	}
	if len(missing) > 0 {
		return fmt.Errorf("building image %q needs %s on this host: install the Debian packages %s",
			c.Name, strings.Join(missing, ", "), strings.Join(packages, " "))
	}
	return nil
}
