package fetch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Result describes a file Download wrote.
type Result struct {
	// Path is the file written, as given to Download.
	Path string
	// URL is the source, redacted by RedactURL.
	URL string
	// Size is the file's size in bytes (Digests.Size).
	Size int64
	// Compression is what the source's first bytes showed; Decompressed says
	// whether the file holds the decompressed bytes.
	Compression  Compression
	Decompressed bool
	// Digests are the digests of the bytes downloaded and of the file.
	Digests Digests
}

// Download streams the source at url (see Open) into the file destPath and
// returns once the file is complete, flushed to disk (fsync) and verified.
//
// The bytes go to a temporary file in destPath's directory, named
// ".<base>.*.part", which is renamed to destPath only after every checksum
// matched; on any error, a checksum mismatch or ctx's end, the temporary file
// is removed and destPath is left as it was, so a failed Download can simply
// be run again. An existing destPath is replaced only by a verified file. The
// file is created with mode 0600, since images may hold private data.
func Download(ctx context.Context, url, destPath string, opts ...Option) (res Result, err error) {
	if destPath == "" {
		return Result{}, fmt.Errorf("dest %q: empty; expected a file path", destPath)
	}
	if fi, err := os.Stat(destPath); err == nil && fi.IsDir() {
		return Result{}, fmt.Errorf("dest %q: is a directory; expected a file path", destPath)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Result{}, fmt.Errorf("dest %q: %w", destPath, err)
	}
	src, err := Open(ctx, url, opts...)
	if err != nil {
		return Result{}, err
	}
	defer src.Close()

	dir, base := filepath.Split(destPath)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.part")
	if err != nil {
		return Result{}, fmt.Errorf("creating a temporary file for %q: %w", destPath, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	if _, err = src.WriteTo(tmp); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == tmp.Name() {
			return Result{}, fmt.Errorf("writing %q: %w", destPath, pe.Err)
		}
		return Result{}, err
	}
	if err = tmp.Sync(); err != nil {
		return Result{}, fmt.Errorf("writing %q: %w", destPath, err)
	}
	if err = tmp.Close(); err != nil {
		return Result{}, fmt.Errorf("writing %q: %w", destPath, err)
	}
	if err = os.Rename(tmp.Name(), destPath); err != nil {
		return Result{}, fmt.Errorf("moving the finished download into place at %q: %w", destPath, err)
	}
	// Make the rename itself durable; a failure here loses nothing.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	d, _ := src.Digests()
	return Result{
		Path:         destPath,
		URL:          src.URL(),
		Size:         d.Size,
		Compression:  src.Compression(),
		Decompressed: src.Decompressed(),
		Digests:      d,
	}, nil
}
