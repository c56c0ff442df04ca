package imagebuild

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
)

// Legacy BIOS boot, installed from files as grub-install would on a
// device: GRUB's core.img (grub-mkimage, with the modules it needs and a
// configuration that boots the kernel, embedded) in the BIOS boot partition,
// and GRUB's boot.img in the protective MBR's boot code, pointed at it.
const (
	// grubPCDir holds GRUB's i386-pc images and modules (package
	// grub-pc-bin; grub-mkimage is in grub-common).
	grubPCDir = "/usr/lib/grub/i386-pc"
	// mbrCodeSize is the MBR's boot code area; the disk signature and the
	// partition table follow it.
	mbrCodeSize = 440
	// Offsets in boot.img (GRUB's include/grub/i386/pc/boot.h): the LBA of
	// core.img's first sector, and the jump that trusts the BIOS's boot drive
	// only for floppies, made two NOPs for a hard disk as grub-bios-setup does.
	bootKernelSector = 0x5c
	bootDriveCheck   = 0x66
	// The block list at the end of core.img's first sector (diskboot.img):
	// where the rest of core.img is, in sectors.
	blocklistStart = sectorSize - 12
)

// grubModules are the modules core.img holds: reading a GPT disk through
// the BIOS, ext4, finding the root by UUID, loading Linux.
var grubModules = []string{"biosdisk", "part_gpt", "ext2", "search", "search_fs_uuid", "linux", "boot", "echo"}

// installBIOSBoot writes core.img into the BIOS boot partition and boot.img
// into the MBR of disk.
func (b *builder) installBIOSBoot(ctx context.Context, rec *Record, disk string) error {
	bootImg, err := os.ReadFile(filepath.Join(grubPCDir, "boot.img"))
	if err != nil {
		return fmt.Errorf("reading GRUB's boot.img (is grub-pc-bin installed?): %w", err)
	}
	if len(bootImg) != sectorSize {
		return fmt.Errorf("GRUB's boot.img is %d bytes, expected %d", len(bootImg), sectorSize)
	}
	cfg := filepath.Join(b.work, "grub-early.cfg")
	script := fmt.Sprintf("search --no-floppy --fs-uuid --set=root %s\n"+
		"linux /boot/vmlinuz-%s %s\ninitrd /boot/initrd.img-%s\nboot\n",
		b.layout.rootFSUUID, rec.Kernel, b.layout.cmdline(b.cfg), rec.Kernel)
	if err := os.WriteFile(cfg, []byte(script), 0o644); err != nil {
		return fmt.Errorf("writing %q: %w", cfg, err)
	}
	core := filepath.Join(b.work, "core.img")
	args := append([]string{"-O", "i386-pc", "-d", grubPCDir, "-o", core, "-c", cfg, "-p", "/boot/grub"}, grubModules...)
	if _, err := b.command(ctx, nil, "grub-mkimage", args...); err != nil {
		return err
	}
	coreImg, err := os.ReadFile(core)
	if err != nil {
		return fmt.Errorf("reading %q: %w", core, err)
	}
	if int64(len(coreImg)) > biosSize || len(coreImg) < 2*sectorSize {
		return fmt.Errorf("GRUB's core.img is %d bytes; the BIOS boot partition holds %d", len(coreImg), biosSize)
	}
	first := uint64(biosStart / sectorSize)
	sectors := (len(coreImg) + sectorSize - 1) / sectorSize
	binary.LittleEndian.PutUint64(coreImg[blocklistStart:], first+1)
	binary.LittleEndian.PutUint16(coreImg[blocklistStart+8:], uint16(sectors-1))
	binary.LittleEndian.PutUint64(bootImg[bootKernelSector:], first)
	bootImg[bootDriveCheck], bootImg[bootDriveCheck+1] = 0x90, 0x90
	f, err := os.OpenFile(disk, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("opening %q: %w", disk, err)
	}
	defer f.Close()
	if _, err := f.WriteAt(coreImg, biosStart); err != nil {
		return fmt.Errorf("writing core.img into %q: %w", disk, err)
	}
	if _, err := f.WriteAt(bootImg[:mbrCodeSize], 0); err != nil {
		return fmt.Errorf("writing boot.img into %q's MBR: %w", disk, err)
	}
	return f.Close()
}
