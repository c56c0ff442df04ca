package convert

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// Request is one conversion. Field names follow the image_convert module's
// options (src, dest, dest_format, src_format, compress, force), and error
// messages name the options.
type Request struct {
	// Src is the path of the image to read; a relative path is taken from the
	// working directory. It must be a regular file.
	Src string
	// Dest is the path of the image to write; its directory must exist. An
	// existing file is replaced only once the new one is complete.
	Dest string
	// DestFormat is the format to write, one of DestFormats ("qcow2", "raw",
	// ...; "vhd" means "vpc").
	DestFormat string
	// SrcFormat is Src's format, one of SrcFormats, or "" to detect it from
	// the file's contents with qemu-img info (never from the file name).
	SrcFormat string
	// Compress writes compressed clusters; only for DestFormat "qcow2".
	Compress bool
	// Force converts even when Dest is up to date.
	Force bool
}

// Result is what Convert did, or what Plan says Convert would do.
type Result struct {
	// Dest is the absolute path of the destination image.
	Dest string
	// Format is the destination's format, by qemu-img's name ("vpc" when
	// "vhd" was asked for).
	Format string
	// SrcFormat is the source's format, as given or as detected.
	SrcFormat string
	// VirtualSize is the disk size the guest sees, in bytes; the same for
	// source and destination.
	VirtualSize int64
	// ActualSize is the space the destination takes on disk, in bytes. Plan
	// reports 0 when the destination would be written, as the size is known
	// only afterwards.
	ActualSize int64
	// Changed is true when the destination was (for Plan: would be) written.
	Changed bool
	// Reason says why the destination was or would be written, such as
	// "dest does not exist" or "dest is raw, not qcow2"; "" when unchanged.
	Reason string
	// Before describes the destination as it was before, or is nil when it
	// did not exist. Its Format is "" when qemu-img could not read it.
	Before *Info
}

// Convert converts req.Src into req.Dest unless Dest is already up to date
// (see the package documentation), and returns what it did.
//
// Errors name the request field at fault and what was expected. A source
// that cannot be a disk image matches ErrNotAnImage, a source that names
// other files ErrExternalFile, a missing qemu-img ErrQemuImgNotFound; a
// failed qemu-img run is a *QemuImgError (inside the returned error) carrying
// qemu-img's message, and a cancelled one matches ctx.Err(). Whatever the
// error, no temporary file is left behind and Dest is as it was.
func Convert(ctx context.Context, req Request, opts ...Option) (Result, error) {
	j, err := prepare(ctx, req, opts)
	if err != nil {
		return Result{}, err
	}
	if !j.result.Changed {
		return j.result, nil
	}
	if err := j.write(ctx); err != nil {
		return Result{}, fmt.Errorf("converting %q (%s) to %s %q: %w",
			j.src, j.result.SrcFormat, j.result.Format, j.result.Dest, err)
	}
	return j.result, nil
}

// Plan tells what Convert would do with the same arguments, writing nothing:
// Result.Changed says whether Dest would be written and Result.Reason why.
// It checks everything Convert checks before writing, so the same request
// errors out the same way (except for failures that only qemu-img convert
// itself can meet, such as a full disk).
func Plan(ctx context.Context, req Request, opts ...Option) (Result, error) {
	j, err := prepare(ctx, req, opts)
	if err != nil {
		return Result{}, err
	}
	return j.result, nil
}

// job is a checked request: absolute paths, canonical formats, the source's
// Info and the planned result.
type job struct {
	o        *options
	qemuImg  string
	src      string
	srcInfo  Info
	srcStat  os.FileInfo
	compress bool
	result   Result
}

// prepare validates req, inspects source and destination and decides
// whether the destination must be written.
func prepare(ctx context.Context, req Request, opts []Option) (*job, error) {
	if req.Src == "" {
		return nil, errors.New("src is empty: expected the path of the image to convert")
	}
	if req.Dest == "" {
		return nil, errors.New("dest is empty: expected the path of the image to write")
	}
	destFormat, err := checkDestFormat(req.DestFormat)
	if err != nil {
		return nil, err
	}
	srcFormat, err := checkSrcFormat(req.SrcFormat)
	if err != nil {
		return nil, err
	}
	if req.Compress && destFormat != "qcow2" {
		return nil, fmt.Errorf("compress is true but dest_format is %q: only qcow2 images can be compressed; set compress: false or dest_format: qcow2", req.DestFormat)
	}
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	qemuImg, err := o.lookQemuImg()
	if err != nil {
		return nil, err
	}
	if err := supportedByQemuImg(ctx, qemuImg, destFormat, "dest_format"); err != nil {
		return nil, err
	}
	if srcFormat != "" {
		if err := supportedByQemuImg(ctx, qemuImg, srcFormat, "src_format"); err != nil {
			return nil, err
		}
	}

	j := &job{o: o, qemuImg: qemuImg, compress: req.Compress}
	if j.src, j.srcStat, err = regularFile("src", req.Src, "the image to convert"); err != nil {
		return nil, err
	}
	dest, err := filepath.Abs(req.Dest)
	if err != nil {
		return nil, fmt.Errorf("dest %q: %w", req.Dest, err)
	}
	if err := checkDestDir(dest); err != nil {
		return nil, err
	}
	destStat, err := os.Stat(dest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		destStat = nil
	case err != nil:
		return nil, fmt.Errorf("dest %q: %w", req.Dest, err)
	case destStat.IsDir():
		return nil, fmt.Errorf("dest %q is a directory: expected the path of the image file to write", req.Dest)
	case !destStat.Mode().IsRegular():
		return nil, fmt.Errorf("dest %q is not a regular file (%s): expected the path of an image file", req.Dest, destStat.Mode().Type())
	case os.SameFile(j.srcStat, destStat):
		return nil, fmt.Errorf("src and dest are the same file %q: give dest another path", j.src)
	}

	if j.srcInfo, err = j.inspectSource(ctx, srcFormat); err != nil {
		return nil, err
	}
	j.result = Result{Dest: dest, Format: destFormat, SrcFormat: j.srcInfo.Format, VirtualSize: j.srcInfo.VirtualSize}
	if destStat == nil {
		j.result.Changed, j.result.Reason = true, "dest does not exist"
		return j, j.checkSource(ctx)
	}
	before, reason := j.compareDest(ctx, dest, destStat)
	j.result.Before = before
	switch {
	case reason != "":
		j.result.Changed, j.result.Reason = true, reason
	case req.Force:
		j.result.Changed, j.result.Reason = true, "dest is up to date, but force is set"
	default:
		j.result.ActualSize = before.ActualSize
		return j, nil
	}
	return j, j.checkSource(ctx)
}

// checkSource runs qemu-img check on a source with structure that is about
// to be converted: qemu-img convert reads a truncated qcow2's missing
// clusters as zeros and writes a silently corrupt image.
func (j *job) checkSource(ctx context.Context) error {
	if j.o.verified || j.srcInfo.Format == "raw" {
		return nil
	}
	if err := checkConsistency(ctx, j.qemuImg, j.src, j.srcInfo.Format, j.srcInfo.ClusterSize); err != nil {
		return fmt.Errorf("src %q: %w", j.src, err)
	}
	return nil
}

// regularFile resolves path (the value of option field) to an absolute path
// and checks that it names a regular file.
func regularFile(field, path, what string) (string, os.FileInfo, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, fmt.Errorf("%s %q: %w", field, path, err)
	}
	stat, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil, &pathError{msg: fmt.Sprintf("%s %q does not exist: expected %s", field, path, what), err: fs.ErrNotExist}
	case err != nil:
		return "", nil, fmt.Errorf("%s %q: %w", field, path, err)
	case stat.IsDir():
		return "", nil, fmt.Errorf("%s %q is a directory: expected %s", field, path, what)
	case !stat.Mode().IsRegular():
		return "", nil, fmt.Errorf("%s %q is not a regular file (%s): expected %s", field, path, stat.Mode().Type(), what)
	}
	return abs, stat, nil
}

// pathError is an error with its own message that still matches a
// sentinel such as fs.ErrNotExist with errors.Is.
type pathError struct {
	msg string
	err error
}

func (e *pathError) Error() string { return e.msg }
func (e *pathError) Unwrap() error { return e.err }

// checkDestDir checks that dest's directory exists.
func checkDestDir(dest string) error {
	dir := filepath.Dir(dest)
	stat, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &pathError{msg: fmt.Sprintf("dest %q: its directory %q does not exist: create it first", dest, dir), err: fs.ErrNotExist}
	case err != nil:
		return fmt.Errorf("dest %q: %w", dest, err)
	case !stat.IsDir():
		return fmt.Errorf("dest %q: %q is not a directory", dest, dir)
	}
	return nil
}

// inspectSource reads the source's Info (as format, or detecting it) and
// refuses sources Convert must not or cannot read.
func (j *job) inspectSource(ctx context.Context, format string) (Info, error) {
	info, err := inspect(ctx, j.qemuImg, j.src, format)
	if err != nil {
		if format != "" {
			return Info{}, fmt.Errorf("src %q cannot be read as src_format %s (correct src_format, or leave it empty to detect the format): %w", j.src, format, err)
		}
		return Info{}, err
	}
	if info.BackingFile != "" {
		return Info{}, fmt.Errorf("src %q has a backing file (%q): %w; convert does not read files named inside an image; if you trust the image, flatten it first with qemu-img convert",
			j.src, info.BackingFile, ErrExternalFile)
	}
	if len(info.ExternalFiles) > 0 {
		return Info{}, fmt.Errorf("src %q keeps its data in other files (%q): %w; convert does not read files named inside an image",
			j.src, info.ExternalFiles, ErrExternalFile)
	}
	if info.Encrypted {
		return Info{}, fmt.Errorf("src %q is an encrypted %s image: convert cannot read encrypted images", j.src, info.Format)
	}
	if format == "" && info.Format == "raw" {
		if err := checkLooksLikeDisk(j.src, j.srcStat.Size()); err != nil {
			return Info{}, err
		}
	}
	return info, nil
}

// sectorSize is the unit every disk image's size is a multiple of.
const sectorSize = 512

// compressionMagics are the first bytes of compressed files: RFC 1952
// (gzip), the bzip2 and xz (tukaani.org) file formats, RFC 8878 (zstd).
var compressionMagics = []struct {
	name  string
	magic string
}{
	{"gzip", "\x1f\x8b"},
	{"bzip2", "BZh"},
	{"xz", "\xfd7zXZ\x00"},
	{"zstd", "\x28\xb5\x2f\xfd"},
}

// checkLooksLikeDisk refuses a file qemu-img detected as raw that cannot be
// a disk image; see ErrNotAnImage.
func checkLooksLikeDisk(path string, size int64) error {
	const anyway = "set src_format: raw to convert it anyway"
	if size == 0 {
		return fmt.Errorf("src %q is empty: %w; %s", path, ErrNotAnImage, anyway)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("src %q: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := f.Read(head)
	for _, c := range compressionMagics {
		if n >= len(c.magic) && string(head[:len(c.magic)]) == c.magic {
			return fmt.Errorf("src %q is %s-compressed data: %w; decompress it first", path, c.name, ErrNotAnImage)
		}
	}
	if size%sectorSize != 0 {
		return fmt.Errorf("src %q was detected as raw, but its size (%d bytes) is not a whole number of %d-byte sectors: %w (a text file, or a truncated download?); %s",
			path, size, sectorSize, ErrNotAnImage, anyway)
	}
	return nil
}

// compareDest inspects the existing destination and returns its Info and
// why it must be rewritten ("" when it is up to date, Force aside).
func (j *job) compareDest(ctx context.Context, dest string, stat os.FileInfo) (*Info, string) {
	want := j.result.Format
	info, err := inspect(ctx, j.qemuImg, dest, "")
	if err != nil {
		return &Info{Path: dest}, fmt.Sprintf("dest exists but qemu-img cannot read it (%v)", err)
	}
	checked := info
	if want == "raw" && info.Format != "raw" && j.srcInfo.Format == "raw" {
		// A raw copy of a file that looks like another format (src_format:
		// raw was given) looks like that format too: judge it as raw data.
		if asRaw, err := inspect(ctx, j.qemuImg, dest, "raw"); err == nil {
			checked = asRaw
		}
	}
	switch {
	case checked.Format != want:
		return &info, fmt.Sprintf("dest is %s, not %s", info.Format, want)
	case checked.VirtualSize != j.srcInfo.VirtualSize:
		return &info, fmt.Sprintf("dest's virtual size is %d bytes, src's is %d", checked.VirtualSize, j.srcInfo.VirtualSize)
	case stat.ModTime().Before(j.srcStat.ModTime()):
		return &info, "src was modified after dest was written"
	}
	return &info, ""
}

// args returns qemu-img convert's arguments for writing tmp.
func (j *job) args(tmp string) []string {
	format := j.result.Format
	args := []string{"convert", "-q", "-f", j.srcInfo.Format, "-O", format,
		"-m", strconv.Itoa(j.o.coroutines)}
	if j.compress {
		args = append(args, "-c")
	}
	if j.o.useOutOfOrder(format, j.compress) {
		args = append(args, "-W")
	}
	if format == "vpc" {
		// Without force_size, vpc rounds the size up to a whole disk
		// geometry, and dest would never match src's size.
		args = append(args, "-o", "force_size=on")
	}
	return append(args, j.src, tmp)
}
