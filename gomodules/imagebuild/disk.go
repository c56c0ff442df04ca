package imagebuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/imageops/cloud/gomodules/buildrecord"
)

// Disk layout: a GPT with the EFI system partition at 1 MiB, a BIOS boot
// partition (GRUB's core.img, for legacy BIOS) after it and the root
// filesystem after that, 1 MiB left at the end for the backup GPT.
const (
	sectorSize = 512
	mib        = int64(1) << 20
	espStart   = 1 * mib
	espSize    = 256 * mib
	biosStart  = espStart + espSize
	biosSize   = 1 * mib
	gptTail    = 1 * mib
	// GPT partition type GUIDs (UEFI spec; Discoverable Partitions
	// Specification's root for x86-64; GRUB's BIOS boot partition).
	espType      = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	rootX86Type  = "4F68BCE3-E8CD-4C31-9787-DA136F4553D5"
	biosBootType = "21686148-6449-6E6F-744E-656564454649"
	// systemdBootEFI is systemd-boot's EFI binary inside the root (package
	// systemd-boot-efi), copied to the ESP's removable path.
	systemdBootEFI = "usr/lib/systemd/boot/efi/systemd-bootx64.efi"
)

// layout holds the disk's geometry and identifiers, derived from the image
// name so that the same spec gives the same bytes.
type layout struct {
	rootStart, rootSize                 int64 // bytes
	diskGUID, espGUID, rootGUID         string
	biosGUID                            string
	rootFSUUID, rootHashSeed, espSerial string
	isoSerial                           string // the ISO's El Torito image's vfat serial
}

func newLayout(cfg Config) layout {
	rootStart := biosStart + biosSize
	return layout{
		rootStart: rootStart, rootSize: cfg.Size - rootStart - gptTail,
		diskGUID: derivedUUID(cfg.Name, "disk"), espGUID: derivedUUID(cfg.Name, "esp"),
		rootGUID: derivedUUID(cfg.Name, "root"), biosGUID: derivedUUID(cfg.Name, "bios"),
		rootFSUUID: derivedUUID(cfg.Name, "rootfs"), rootHashSeed: derivedUUID(cfg.Name, "hash_seed"),
		espSerial: derivedUUID(cfg.Name, "vfat")[:8], isoSerial: derivedUUID(cfg.Name, "iso-vfat")[:8],
	}
}

// derivedUUID is a version 4 shaped UUID made from the SHA-256 of name and
// purpose: stable across builds of the same name, distinct between names.
func derivedUUID(name, purpose string) string {
	sum := sha256.Sum256([]byte("imageops.cloud image_build\x00" + name + "\x00" + purpose))
	sum[6] = sum[6]&0x0f | 0x40
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

// cmdline is the kernel command line of the loader entry.
func (l layout) cmdline(cfg Config) string {
	return strings.TrimSpace("root=UUID=" + l.rootFSUUID + " rw " + cfg.KernelCmdline)
}

// makeESP makes the EFI system partition from files: systemd-boot at the
// removable path, a loader entry, the kernel and the initramfs. The root's
// times are clamped first: the ESP is the first image made from it.
func (b *builder) makeESP(ctx context.Context, rec *Record) error {
	if err := b.clampTimes(ctx, b.root); err != nil {
		return err
	}
	return b.makeBootFAT(ctx, rec, filepath.Join(b.work, "esp.img"), espSize, b.layout.espSerial, b.layout.cmdline(b.cfg))
}

// makeBootFAT makes a vfat image of size bytes (0: as small as its files
// allow) that boots under UEFI: systemd-boot at the removable path
// EFI/BOOT/BOOTX64.EFI, a loader entry with the kernel command line
// options, the kernel and the initramfs. The files are staged in a folder
// stamped with the epoch and copied in with mcopy -s -m (see clampTimes).
func (b *builder) makeBootFAT(ctx context.Context, rec *Record, img string, size int64, serial, options string) error {
	stage := img + ".d"
	boot := filepath.Join(b.root, "boot")
	entry := fmt.Sprintf("title %s %s (%s)\nlinux /vmlinuz\ninitrd /initrd.img\noptions %s\n",
		b.cfg.Distribution, b.cfg.Release, b.cfg.Name, options)
	files := map[string]string{
		"loader/loader.conf":         "default debian.conf\ntimeout 0\n",
		"loader/entries/debian.conf": entry,
	}
	links := map[string]string{
		"EFI/BOOT/BOOTX64.EFI": filepath.Join(b.root, systemdBootEFI),
		"vmlinuz":              filepath.Join(boot, "vmlinuz-"+rec.Kernel),
		"initrd.img":           filepath.Join(boot, "initrd.img-"+rec.Kernel),
	}
	if err := stageFiles(stage, files, links); err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	if err := b.clampTimes(ctx, stage); err != nil {
		return err
	}
	if size == 0 {
		used, err := folderBytes(stage)
		if err != nil {
			return err
		}
		size = (used + used/20 + 2*mib + mib - 1) / mib * mib
	}
	args := []string{"--invariant", "-C", "-i", serial, "-n", "ESP"}
	if size >= 256*mib {
		args = append(args, "-F", "32")
	}
	if _, err := b.command(ctx, nil, "mkfs.vfat", append(args, img, fmt.Sprint(size/1024))...); err != nil {
		return err
	}
	entries, err := os.ReadDir(stage)
	if err != nil {
		return fmt.Errorf("reading %q: %w", stage, err)
	}
	args = []string{"-s", "-m", "-i", img}
	for _, e := range entries {
		args = append(args, filepath.Join(stage, e.Name()))
	}
	_, err = b.command(ctx, nil, "mcopy", append(args, "::/")...)
	return err
}

// stageFiles makes a folder holding files (path: content) and links (path:
// a file linked, or copied when it is on another filesystem).
func stageFiles(stage string, files, links map[string]string) error {
	mkdir := func(path string) error {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("creating %q: %w", filepath.Dir(path), err)
		}
		return nil
	}
	for name, content := range files {
		path := filepath.Join(stage, name)
		if err := mkdir(path); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return fmt.Errorf("writing %q: %w", path, err)
		}
	}
	for name, src := range links {
		path := filepath.Join(stage, name)
		if err := mkdir(path); err != nil {
			return err
		}
		if err := os.Link(src, path); err != nil {
			if err := copyFile(src, path); err != nil {
				return err
			}
		}
	}
	return nil
}

// makeRoot makes the root ext4 filesystem from the folder, with a fixed
// UUID and hash seed and the epoch's timestamps (E2FSPROGS_FAKE_TIME).
func (b *builder) makeRoot(ctx context.Context, rec *Record) error {
	used, err := folderBytes(b.root)
	if err != nil {
		return err
	}
	if need := rootNeeds(used); need > b.layout.rootSize {
		return fmt.Errorf("%w: size %d is too small: the root filesystem holds %d MiB and needs about %d MiB, "+
			"so size must be at least %d MiB", ErrInvalidSpec, b.cfg.Size, used/mib, need/mib, (diskNeeds(used)+mib-1)/mib)
	}
	img := filepath.Join(b.work, "root.img")
	if err := sparseFile(img, b.layout.rootSize); err != nil {
		return err
	}
	_, err = b.command(ctx, nil, "mke2fs", "-q", "-F", "-t", "ext4", "-L", "root", "-U", b.layout.rootFSUUID,
		"-E", "hash_seed="+b.layout.rootHashSeed+",root_owner=0:0", "-d", b.root, img)
	if err != nil {
		return err
	}
	return b.fixInodeTimes(ctx, img)
}

// folderBytes is the space the files under dir take, in 4 KiB blocks.
func folderBytes(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += (info.Size() + 4095) / 4096 * 4096
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("measuring the root filesystem %q: %w", dir, err)
	}
	return total, nil
}

func sparseFile(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %q: %w", path, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("sizing %q to %d bytes: %w", path, size, err)
	}
	return f.Close()
}

// makeDisk writes the GPT with sfdisk into a sparse file and copies the two
// filesystems into their partitions, skipping zero blocks.
func (b *builder) makeDisk(ctx context.Context, rec *Record) error {
	disk := filepath.Join(b.work, "disk.raw")
	if err := sparseFile(disk, b.cfg.Size); err != nil {
		return err
	}
	l := b.layout
	table := fmt.Sprintf("label: gpt\nlabel-id: %s\nunit: sectors\nfirst-lba: 2048\n"+
		"start=%d, size=%d, type=%s, uuid=%s, name=\"ESP\"\n"+
		"start=%d, size=%d, type=%s, uuid=%s, name=\"root\"\n"+
		"start=%d, size=%d, type=%s, uuid=%s, name=\"bios\"\n",
		l.diskGUID, espStart/sectorSize, espSize/sectorSize, espType, l.espGUID,
		l.rootStart/sectorSize, l.rootSize/sectorSize, rootX86Type, l.rootGUID,
		biosStart/sectorSize, biosSize/sectorSize, biosBootType, l.biosGUID)
	if _, err := b.command(ctx, strings.NewReader(table), "sfdisk", "--no-reread", "--no-tell-kernel", "-q", disk); err != nil {
		return err
	}
	for src, offset := range map[string]int64{filepath.Join(b.work, "esp.img"): espStart, filepath.Join(b.work, "root.img"): l.rootStart} {
		if err := copySparse(disk, src, offset); err != nil {
			return err
		}
		if err := os.Remove(src); err != nil {
			return fmt.Errorf("removing %q: %w", src, err)
		}
	}
	return b.installBIOSBoot(ctx, rec, disk)
}

// copySparse writes src into dst at offset, leaving holes where src is zero.
func copySparse(dst, src string, offset int64) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("opening %q: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("opening %q: %w", dst, err)
	}
	defer out.Close()
	buf := make([]byte, mib)
	zero := make([]byte, mib)
	for pos := int64(0); ; {
		n, err := io.ReadFull(in, buf)
		if n > 0 && !bytes.Equal(buf[:n], zero[:n]) {
			if _, werr := out.WriteAt(buf[:n], offset+pos); werr != nil {
				return fmt.Errorf("writing %q into %q: %w", src, dst, werr)
			}
		}
		pos += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %q: %w", src, err)
		}
	}
	return out.Close()
}

// makeFormats converts the raw disk to each format and digests each output.
func (b *builder) makeFormats(ctx context.Context, rec *Record) error {
	raw := filepath.Join(b.work, "disk.raw")
	rec.Outputs = map[string]Output{}
	for _, format := range b.cfg.Formats {
		b.progress("formats: %s", format)
		path := raw
		switch format {
		case "raw":
		case "iso":
			var err error
			if path, err = b.makeISO(ctx, rec); err != nil {
				return err
			}
		default:
			path = filepath.Join(b.work, "disk."+format)
			if _, err := b.command(ctx, nil, "qemu-img", "convert", "-f", "raw", "-O", format, raw, path); err != nil {
				return err
			}
		}
		size, s256, s512, err := buildrecord.Digest(path)
		if err != nil {
			return err
		}
		rec.Outputs[format] = Output{Path: path, Format: format, Size: size, SHA256: s256, SHA512: s512}
	}
	return nil
}

// install moves the outputs into place and writes the record last; the old
// record goes first, so that no record ever describes a mix of builds.
func (b *builder) install(rec *Record) error {
	if err := os.Remove(b.cfg.RecordPath()); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("removing the old build record: %w", err)
	}
	for format, out := range rec.Outputs {
		dest := b.cfg.OutputPath(format)
		if format == "raw" && len(rec.Outputs) > 1 {
			if err := copyFile(out.Path, dest+".tmp"); err != nil {
				return err
			}
			out.Path = dest + ".tmp"
		}
		if err := os.Rename(out.Path, dest); err != nil {
			return fmt.Errorf("moving the %s image into %q: %w", format, dest, err)
		}
		out.Path = dest
		rec.Outputs[format] = out
	}
	return WriteRecord(b.cfg.RecordPath(), *rec)
}

// copyFile copies a sparse raw image, keeping its holes.
func copyFile(src, dst string) error {
	info, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("reading %q: %w", src, err)
	}
	if err := sparseFile(dst, info.Size()); err != nil {
		return err
	}
	return copySparse(dst, src, 0)
}

// hostTools are the versions of the tools a build ran (those installed:
// the ISO's are needed only for formats: [iso], see checkHostTools).
func hostTools(ctx context.Context) (map[string]string, error) {
	tools := map[string][]string{"mmdebstrap": {"--version"}, "qemu-img": {"--version"}, "mke2fs": {"-V"},
		"grub-mkimage": {"--version"}, "mksquashfs": {"-version"}, "xorriso": {"-version"}}
	out := map[string]string{}
	for tool, args := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			continue
		}
		var buf bytes.Buffer
		cmd := exec.CommandContext(ctx, tool, args...)
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("asking %s its version: %w", tool, err)
		}
		out[tool], _, _ = strings.Cut(strings.TrimSpace(buf.String()), "\n")
	}
	return out, nil
}
