package convert

import (
	"context"
	"fmt"
	"path/filepath"

	json "github.com/goccy/go-json"
)

// Info describes a disk image as qemu-img info reports it.
type Info struct {
	// Path is the image's absolute path.
	Path string
	// Format is qemu-img's name of the image's format ("raw", "qcow2", ...).
	Format string
	// VirtualSize is the size of the disk the guest sees, in bytes.
	VirtualSize int64
	// ActualSize is the space the file takes on the host's disk, in bytes
	// (allocated blocks; less than the file's length for a sparse file).
	ActualSize int64
	// BackingFile is the backing file the image names, as written in the
	// image, or "" for none.
	BackingFile string
	// ExternalFiles lists other files the image's data lives in: a qcow2
	// external data file, or VMDK extents other than the image itself.
	ExternalFiles []string
	// ClusterSize is the allocation unit of formats that have one (qcow2,
	// qed, vhdx, ...), in bytes; 0 otherwise.
	ClusterSize int64
	// Encrypted tells whether the image's data is encrypted (LUKS or qcow
	// AES); Convert cannot read it without a key.
	Encrypted bool
}

// infoJSON is the part of `qemu-img info --output=json` (QEMU's QAPI type
// ImageInfo) that Info uses.
type infoJSON struct {
	Format         string `json:"format"`
	VirtualSize    int64  `json:"virtual-size"`
	ActualSize     int64  `json:"actual-size"`
	ClusterSize    int64  `json:"cluster-size"`
	BackingFile    string `json:"backing-filename"`
	Encrypted      bool   `json:"encrypted"`
	FormatSpecific struct {
		Type string `json:"type"`
		Data struct {
			DataFile string `json:"data-file"`
			Extents  []struct {
				Filename string `json:"filename"`
			} `json:"extents"`
		} `json:"data"`
	} `json:"format-specific"`
}

// Inspect reads path's format and sizes with `qemu-img info --output=json`,
// detecting the format from the file's contents. It fails with an error
// matching ErrQemuImgNotFound without qemu-img, and with a *QemuImgError
// (qemu-img's message, such as "No such file or directory") when qemu-img
// cannot open the file.
func Inspect(ctx context.Context, path string, opts ...Option) (Info, error) {
	qemuImg, abs, err := qemuImgAndPath("inspecting", path, opts)
	if err != nil {
		return Info{}, err
	}
	return inspect(ctx, qemuImg, abs, "")
}

// qemuImgAndPath applies opts and returns the qemu-img to run and path made
// absolute (so that a name with a colon is never read as a protocol); doing
// says what for, in errors.
func qemuImgAndPath(doing, path string, opts []Option) (qemuImg, abs string, err error) {
	o, err := makeOptions(opts)
	if err != nil {
		return "", "", err
	}
	if qemuImg, err = o.lookQemuImg(); err != nil {
		return "", "", err
	}
	if abs, err = filepath.Abs(path); err != nil {
		return "", "", fmt.Errorf("%s %q: %w", doing, path, err)
	}
	return qemuImg, abs, nil
}

// inspect runs qemu-img info on abs, an absolute path, reading it as format,
// or detecting the format when format is "".
func inspect(ctx context.Context, qemuImg, abs, format string) (Info, error) {
	args := []string{"info", "--output=json"}
	if format != "" {
		args = append(args, "-f", format)
	}
	out, err := runQemuImg(ctx, qemuImg, append(args, abs)...)
	if err != nil {
		return Info{}, fmt.Errorf("inspecting %q: %w", abs, err)
	}
	var raw infoJSON
	if err := json.Unmarshal(out, &raw); err != nil {
		return Info{}, fmt.Errorf("inspecting %q: reading qemu-img info's JSON: %w", abs, err)
	}
	info := Info{Path: abs, Format: raw.Format, VirtualSize: raw.VirtualSize, ActualSize: raw.ActualSize,
		ClusterSize: raw.ClusterSize, BackingFile: raw.BackingFile, Encrypted: raw.Encrypted}
	if f := raw.FormatSpecific.Data.DataFile; f != "" {
		info.ExternalFiles = append(info.ExternalFiles, f)
	}
	for _, extent := range raw.FormatSpecific.Data.Extents {
		if !sameName(abs, extent.Filename) {
			info.ExternalFiles = append(info.ExternalFiles, extent.Filename)
		}
	}
	return info, nil
}

// sameName tells whether name, as qemu-img reports it (relative names are
// relative to the image's directory), is the file at abs.
func sameName(abs, name string) bool {
	if !filepath.IsAbs(name) {
		name = filepath.Join(filepath.Dir(abs), name)
	}
	return filepath.Clean(name) == abs
}
