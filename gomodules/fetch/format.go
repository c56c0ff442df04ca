package fetch

import "bytes"

// FormatHeaderLen is the number of leading bytes DetectFormat needs to
// recognise every format it knows: the ISO 9660 volume descriptor magic ends
// at byte 0x8006.
const FormatHeaderLen = 0x8001 + 5

// Glance disk_format names DetectFormat returns.
const (
	FormatQCOW2 = "qcow2"
	FormatVMDK  = "vmdk"
	FormatVHDX  = "vhdx"
	FormatVHD   = "vhd"
	FormatVDI   = "vdi"
	FormatISO   = "iso"
	FormatRaw   = "raw"
)

// formatMagic is a signature at a fixed offset.
type formatMagic struct {
	format string
	offset int
	magic  []byte
}

// formatMagics lists the signatures DetectFormat looks for, from the formats'
// own specifications (and qemu's block drivers, which follow them).
var formatMagics = []formatMagic{
	// QEMU's qcow2 specification (docs/interop/qcow2.txt): "QFI\xfb".
	{FormatQCOW2, 0, []byte("QFI\xfb")},
	// VMware Virtual Disk Format 5.0: hosted sparse extents start "KDMV",
	// ESXi sparse extents "COWD"; a descriptor file starts with its comment.
	{FormatVMDK, 0, []byte("KDMV")},
	{FormatVMDK, 0, []byte("COWD")},
	{FormatVMDK, 0, []byte("# Disk DescriptorFile")},
	// [MS-VHDX] 2.2.1 File Type Identifier: "vhdxfile".
	{FormatVHDX, 0, []byte("vhdxfile")},
	// Virtual Hard Disk Image Format Specification: dynamic and differencing
	// disks start with a copy of the footer, cookie "conectix". (A fixed VHD
	// has its footer at the end only and is seen as raw.)
	{FormatVHD, 0, []byte("conectix")},
	// VirtualBox VDI: signature 0xbeda107f (little-endian) at offset 0x40.
	{FormatVDI, 0x40, []byte{0x7f, 0x10, 0xda, 0xbe}},
	// ECMA-119 (ISO 9660) 8.1: the first volume descriptor, at sector 16 of
	// 2048 bytes, carries the standard identifier "CD001" at byte 1.
	{FormatISO, 0x8001, []byte("CD001")},
}

// DetectFormat names the Glance disk_format of an image from its first bytes
// (at least FormatHeaderLen of them, fewer only for a shorter image): qcow2,
// vmdk, vhdx, vhd, vdi or iso, and raw when no signature matches. It reads
// signatures only, so a compressed stream is "raw"; detect the format of the
// decompressed bytes (Source.Peek). Kernels and ramdisks (aki, ari) have no
// signature of their own and come back as raw.
func DetectFormat(header []byte) string {
	for _, m := range formatMagics {
		end := m.offset + len(m.magic)
		if len(header) >= end && bytes.Equal(header[m.offset:end], m.magic) {
			return m.format
		}
	}
	return FormatRaw
}

// Signatures of what can be booted as a kernel (Glance's aki) or a ramdisk
// (ari), for KernelOrRamdisk.
var (
	// Executable and Linkable Format (a vmlinux): "\x7fELF".
	magicELF = formatMagic{"elf", 0, []byte("\x7fELF")}
	// The x86 Linux boot protocol (Documentation/x86/boot.rst): a bzImage
	// carries "HdrS" at 0x202.
	magicBzImage = formatMagic{"bzImage", 0x202, []byte("HdrS")}
	// The arm64 and riscv Image header (Documentation/arch/arm64/booting.rst,
	// riscv/boot-image-header.rst): "ARM\x64" at 0x38, "RSC\x05" at 0x38.
	magicARM64 = formatMagic{"arm64 Image", 0x38, []byte("ARM\x64")}
	magicRISCV = formatMagic{"riscv Image", 0x38, []byte("RSC\x05")}
	// A PE/COFF executable ("MZ"): EFI stub and EFI zboot kernels.
	magicPE = formatMagic{"PE", 0, []byte("MZ")}
	// A U-Boot legacy image (include/image.h, IH_MAGIC 0x27051956).
	magicUImage = formatMagic{"uImage", 0, []byte{0x27, 0x05, 0x19, 0x56}}
	// cpio archives (the initramfs format, Documentation/driver-api/early-userspace):
	// "070701" (newc), "070702" (crc), "070707" (odc), and the old binary
	// format's 070707 in either byte order.
	magicCpio = []formatMagic{{"cpio", 0, []byte("070701")}, {"cpio", 0, []byte("070702")},
		{"cpio", 0, []byte("070707")}, {"cpio", 0, []byte{0xc7, 0x71}}, {"cpio", 0, []byte{0x71, 0xc7}}}
	// An ext2/3/4 file system (an initrd image): 0xEF53 at 0x438.
	magicExt = formatMagic{"ext2", 0x438, []byte{0x53, 0xef}}
	// Compressions the kernel unpacks (usr/Kconfig, lib/decompress.c) besides
	// those DetectCompression knows: lzma ("\x5d\x00\x00"), lzop ("\x89LZO"),
	// lz4 legacy ("\x02\x21\x4c\x18").
	magicKernelCompressions = []formatMagic{{"lzma", 0, []byte{0x5d, 0x00, 0x00}}, {"lzop", 0, []byte("\x89LZO")},
		{"lz4", 0, []byte{0x02, 0x21, 0x4c, 0x18}}}
)

func (m formatMagic) matches(header []byte) bool {
	end := m.offset + len(m.magic)
	return len(header) >= end && bytes.Equal(header[m.offset:end], m.magic)
}

func anyMatches(header []byte, magics []formatMagic) bool {
	for _, m := range magics {
		if m.matches(header) {
			return true
		}
	}
	return false
}

// KernelOrRamdisk tells whether header, the first bytes of a source as
// downloaded (at least 0x440 of them), can be what Glance's disk format
// (aki for a kernel, ari for a ramdisk) says: a kernel is an ELF file, an
// x86 bzImage, an arm64 or riscv Image, a PE (EFI stub) file or a U-Boot
// image; a ramdisk is a cpio archive, an ext2/3/4 file system or a U-Boot
// image; either may be compressed (gzip, bzip2, xz, zstd, lzma, lzop, lz4).
// Anything else (a text file such as /etc/shadow, a disk image) is not one.
// Other formats return true.
func KernelOrRamdisk(format string, header []byte) bool {
	if DetectCompression(header) != CompressionNone || anyMatches(header, magicKernelCompressions) || magicUImage.matches(header) {
		return true
	}
	switch format {
	case "aki":
		return anyMatches(header, []formatMagic{magicELF, magicBzImage, magicARM64, magicRISCV, magicPE})
	case "ari":
		return anyMatches(header, magicCpio) || magicExt.matches(header)
	}
	return true
}

// otherImageMagics are the signatures of disk image formats that qemu
// reads but Glance has no disk_format for: uploaded as raw data they would
// be a disk image in disguise (a host that later probes the format would
// follow their metadata).
var otherImageMagics = []formatMagic{
	// QEMU's QED specification: "QED\0".
	{"qed", 0, []byte("QED\x00")},
	// LUKS on-disk format (cryptsetup): "LUKS\xba\xbe".
	{"luks", 0, []byte("LUKS\xba\xbe")},
	// Parallels disk images (qemu's block/parallels.c).
	{"parallels", 0, []byte("WithoutFreeSpace")},
	{"parallels", 0, []byte("WithouFreSpacExt")},
	// Bochs disk images (qemu's block/bochs.c).
	{"bochs", 0, []byte("Bochs Virtual HD Image")},
}

// OtherImageFormat names the qemu format of header when it is a disk image
// format Glance has no disk_format for (qed, luks, parallels, bochs), and
// returns "" otherwise. A source that DetectFormat calls raw but that is one
// of these is not raw data.
func OtherImageFormat(header []byte) string {
	for _, m := range otherImageMagics {
		if m.matches(header) {
			return m.format
		}
	}
	return ""
}
