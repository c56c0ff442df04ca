package convert

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	json "github.com/goccy/go-json"
)

// ErrUnsafeImage is matched (errors.Is) by Verify's error for an image that
// must not be used: it names other files (then ErrExternalFile matches too),
// is encrypted, is larger than allowed (then ErrVirtualSizeTooLarge matches
// too), or is corrupt or truncated.
var ErrUnsafeImage = errors.New("image refused")

// ErrVirtualSizeTooLarge is matched (errors.Is) by Verify's error for an
// image whose virtual size exceeds the bound it was given.
var ErrVirtualSizeTooLarge = errors.New("virtual size too large")

// qemu-img check's exit codes (qemu-img(1), "check").
const (
	checkExitLeaks       = 3  // leaked clusters only: harmless, the data is whole
	checkExitUnsupported = 63 // the format has no consistency check
)

// Verify inspects the image at path, read as format (qemu-img's name, or
// Glance's "vhd"/"iso"; never probed), before anything else uses it: it
// refuses an image that names other files (a backing file, a qcow2 external
// data file, VMDK extents in other files), an encrypted one, one whose
// virtual size is more than maxVirtualSize bytes, and one that qemu-img
// check finds corrupt or truncated (for the formats check supports: qcow2,
// qed, vdi, vhdx, vmdk, parallels). It returns the image's Info.
//
// The image is untrusted: errors never quote what it contains (file names
// written in it, qemu-img's per-cluster complaints), only what was found.
// They match ErrUnsafeImage, and ErrExternalFile or ErrVirtualSizeTooLarge
// where those apply; a missing qemu-img matches ErrQemuImgNotFound.
func Verify(ctx context.Context, path, format string, maxVirtualSize int64, opts ...Option) (Info, error) {
	qemuImg, abs, err := qemuImgAndPath("verifying", path, opts)
	if err != nil {
		return Info{}, err
	}
	format = CanonicalFormat(format)
	if err := refuseNamedFilesUnopened(abs, format); err != nil {
		return Info{}, err
	}
	info, err := inspect(ctx, qemuImg, abs, format)
	if err != nil {
		return Info{}, fmt.Errorf("%w: qemu-img cannot read it as %s (a damaged or mislabelled image)", ErrUnsafeImage, format)
	}
	switch {
	case info.BackingFile != "":
		return Info{}, fmt.Errorf("%w: the %s image names a backing file: %w; only self-contained images are accepted", ErrUnsafeImage, format, ErrExternalFile)
	case len(info.ExternalFiles) > 0:
		return Info{}, fmt.Errorf("%w: the %s image keeps its data in %d other file(s) (an external data file or extents): %w; only self-contained images are accepted",
			ErrUnsafeImage, format, len(info.ExternalFiles), ErrExternalFile)
	case info.Encrypted:
		return Info{}, fmt.Errorf("%w: the %s image is encrypted", ErrUnsafeImage, format)
	case info.VirtualSize < 0 || info.VirtualSize > maxVirtualSize:
		return Info{}, fmt.Errorf("%w: the %s image's virtual size is %d bytes, more than the %d allowed (max_virtual_size): %w",
			ErrUnsafeImage, format, info.VirtualSize, maxVirtualSize, ErrVirtualSizeTooLarge)
	}
	if err := checkConsistency(ctx, qemuImg, abs, format, info.ClusterSize); err != nil {
		return Info{}, err
	}
	return info, nil
}

// qcow2 header fields (QEMU's docs/interop/qcow2.txt): the backing file's
// offset at byte 8, version at 4, incompatible features (version 3) at 72,
// whose bit 2 says the data is in an external data file.
const (
	qcow2VersionOffset      = 4
	qcow2BackingOffset      = 8
	qcow2IncompatibleOffset = 72
	qcow2ExternalDataBit    = 1 << 2
)

// vmdkDescriptorMagic starts a VMDK descriptor file, which holds no data of
// its own: its extents are other files (VMware Virtual Disk Format 5.0).
const vmdkDescriptorMagic = "# Disk DescriptorFile"

// refuseNamedFilesUnopened refuses, from the image's own header and before
// qemu-img runs, a qcow2 that names a backing file or an external data file
// and a VMDK descriptor file: qemu-img info opens a VMDK's extents (one that
// is a FIFO hangs it) and may open other named files, so that qemu-img never
// touches a host file an untrusted image names.
func refuseNamedFilesUnopened(abs, format string) error {
	f, err := os.Open(abs)
	if err != nil {
		return fmt.Errorf("verifying %q: %w", abs, err)
	}
	defer f.Close()
	header := make([]byte, qcow2IncompatibleOffset+8)
	n, _ := io.ReadFull(f, header)
	header = header[:n]
	switch {
	case format == "qcow2" && len(header) >= qcow2BackingOffset+8 && binary.BigEndian.Uint64(header[qcow2BackingOffset:]) != 0:
		return fmt.Errorf("%w: the qcow2 image names a backing file: %w; only self-contained images are accepted", ErrUnsafeImage, ErrExternalFile)
	case format == "qcow2" && len(header) >= qcow2IncompatibleOffset+8 && binary.BigEndian.Uint32(header[qcow2VersionOffset:]) >= 3 &&
		binary.BigEndian.Uint64(header[qcow2IncompatibleOffset:])&qcow2ExternalDataBit != 0:
		return fmt.Errorf("%w: the qcow2 image keeps its data in an external data file: %w; only self-contained images are accepted", ErrUnsafeImage, ErrExternalFile)
	case format == "vmdk" && bytes.HasPrefix(header, []byte(vmdkDescriptorMagic)):
		return fmt.Errorf("%w: the vmdk image is a descriptor that keeps its data in other files (extents): %w; only self-contained images are accepted", ErrUnsafeImage, ErrExternalFile)
	}
	return nil
}

// checkJSON is the part of `qemu-img check --output=json` (QEMU's QAPI type
// ImageCheck) that checkConsistency uses.
type checkJSON struct {
	Corruptions    int64 `json:"corruptions"`
	CheckErrors    int64 `json:"check-errors"`
	ImageEndOffset int64 `json:"image-end-offset"`
}

// checkConsistency runs qemu-img check on abs and refuses corruption (a
// truncated qcow2 shows as clusters past the end of the file), a check that
// could not finish, and an image whose metadata ends more than a cluster
// past the file's end (qemu-img writes only the used part of the last
// cluster). Leaked clusters are accepted; a format without a check passes.
func checkConsistency(ctx context.Context, qemuImg, abs, format string, clusterSize int64) error {
	cmd := exec.CommandContext(ctx, qemuImg, "check", "--output=json", "-f", format, abs)
	cmd.WaitDelay = waitDelay
	stdout, err := cmd.Output() // stderr (one line per bad cluster) is dropped: it describes the image's content
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("checking the %s image with qemu-img check: %w", format, ctx.Err())
	case errors.As(err, &exit) && exit.ExitCode() == checkExitUnsupported:
		return nil
	case err != nil && !(errors.As(err, &exit) && len(stdout) > 0):
		return fmt.Errorf("%w: qemu-img check could not check the %s image (%v)", ErrUnsafeImage, format, err)
	}
	var report checkJSON
	if jerr := json.Unmarshal(stdout, &report); jerr != nil {
		return fmt.Errorf("%w: qemu-img check gave no report on the %s image (%v)", ErrUnsafeImage, format, err)
	}
	switch {
	case report.Corruptions > 0:
		return fmt.Errorf("%w: the %s image is corrupt or truncated (qemu-img check found %d corruptions)", ErrUnsafeImage, format, report.Corruptions)
	case report.CheckErrors > 0:
		return fmt.Errorf("%w: qemu-img check could not read the whole %s image (%d errors): truncated or damaged", ErrUnsafeImage, format, report.CheckErrors)
	case err != nil && exit.ExitCode() != checkExitLeaks:
		return fmt.Errorf("%w: qemu-img check failed on the %s image (%v)", ErrUnsafeImage, format, err)
	}
	if stat, serr := os.Stat(abs); serr == nil && report.ImageEndOffset > stat.Size()+clusterSize {
		return fmt.Errorf("%w: the %s image is truncated: its metadata needs %d bytes, the file has %d",
			ErrUnsafeImage, format, report.ImageEndOffset, stat.Size())
	}
	return nil
}
