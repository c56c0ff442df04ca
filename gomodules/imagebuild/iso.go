package imagebuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The ISO (formats: [iso]) boots the same system as the disk, as airship's
// ephemeral ISO does: the root folder as a squashfs at /live/filesystem.squashfs,
// which Debian's live-boot (in the initramfs) mounts read only under a
// tmpfs overlay; an El Torito EFI boot image, a vfat made with mtools like
// the ESP, holds systemd-boot, the kernel and the initramfs. Made with
// mksquashfs and xorriso from files: no loop device, no mount.

// liveCmdline starts the ISO's kernel command line.
const liveCmdline = "boot=live"

// isoLabel is the ISO's volume ID: the image name in ISO 9660's d-characters
// (A-Z, 0-9, _), at most 32 of them.
func isoLabel(name string) string {
	label := regexp.MustCompile(`[^A-Z0-9_]`).ReplaceAllString(strings.ToUpper(name), "_")
	if len(label) > 32 {
		label = label[:32]
	}
	return label
}

// makeISO makes the ISO from the root folder and returns its path.
func (b *builder) makeISO(ctx context.Context, rec *Record) (string, error) {
	tree := filepath.Join(b.work, "iso")
	squashfs := filepath.Join(tree, "live", "filesystem.squashfs")
	if err := os.MkdirAll(filepath.Dir(squashfs), 0o755); err != nil {
		return "", fmt.Errorf("creating %q: %w", filepath.Dir(squashfs), err)
	}
	// The disk's fstab names its root filesystem; live-boot writes the live
	// system's (the overlay as root) when there is none.
	if _, err := b.command(ctx, nil, "mksquashfs", b.root, squashfs, "-noappend", "-quiet", "-no-progress",
		"-comp", "zstd", "-Xcompression-level", "6", "-e", "etc/fstab"); err != nil {
		return "", err
	}
	options := strings.TrimSpace(liveCmdline + " " + b.cfg.KernelCmdline)
	if err := b.makeBootFAT(ctx, rec, filepath.Join(tree, "boot", "efiboot.img"), 0, b.layout.isoSerial, options); err != nil {
		return "", err
	}
	if err := b.clampTimes(ctx, tree); err != nil {
		return "", err
	}
	iso := filepath.Join(b.work, "image.iso")
	_, err := b.command(ctx, nil, "xorriso", "-as", "mkisofs", "-quiet", "-o", iso, "-iso-level", "3", "-R",
		"-V", isoLabel(b.cfg.Name), "-e", "boot/efiboot.img", "-no-emul-boot", tree)
	return iso, err
}
