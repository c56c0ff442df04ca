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
