package convert

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/imageops/cloud/gomodules/scratch"
)

// tempFileMode is the mode qemu-img gives the files it creates (before the
// umask); a replaced dest keeps its own mode instead.
const tempFileMode = 0o644

// tempSuffix ends the name of the temporary file beside dest:
// .<dest name>.<random>.tmp.
const tempSuffix = ".tmp"

// write converts the source into a temporary file beside dest and renames it
// over dest once complete, checked and on disk. The temporary file is
// removed on every failure. It sets j.result.ActualSize.
func (j *job) write(ctx context.Context) (err error) {
	dest := j.result.Dest
	tmp, unlock, err := reserveTemp(dest)
	if err != nil {
		return err
	}
	defer unlock()
	defer func() {
		if err != nil {
			if rmErr := os.Remove(tmp); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
				err = fmt.Errorf("%w (and removing the temporary file %q: %v)", err, tmp, rmErr)
			}
		}
	}()

	if _, err := runQemuImg(ctx, j.qemuImg, j.args(tmp)...); err != nil {
		return err
	}
	if err := j.checkSourceUnchanged(); err != nil {
		return err
	}
	if !j.o.noSync {
		if err := syncFile(tmp); err != nil {
			return fmt.Errorf("flushing %q to disk: %w", tmp, err)
		}
	}
	written, err := inspect(ctx, j.qemuImg, tmp, j.result.Format)
	if err != nil {
		return fmt.Errorf("checking the converted image: %w", err)
	}
	if written.VirtualSize != j.srcInfo.VirtualSize {
		return fmt.Errorf("qemu-img wrote a %s image of %d bytes, but src's virtual size is %d bytes",
			written.Format, written.VirtualSize, j.srcInfo.VirtualSize)
	}
	if j.result.Before != nil {
		if stat, err := os.Stat(dest); err == nil {
			if err := os.Chmod(tmp, stat.Mode().Perm()); err != nil {
				return fmt.Errorf("giving %q the mode of %q: %w", tmp, dest, err)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fmt.Errorf("renaming %q to %q: %w", tmp, dest, err)
	}
	// The rename itself reaches the disk when the directory is flushed; the
	// data is complete either way, so a failure here is not worth an error.
	if !j.o.noSync {
		_ = syncFile(filepath.Dir(dest))
	}
	j.result.ActualSize = written.ActualSize
	return nil
}

// reserveTemp creates an empty, hidden, uniquely named file in dest's
// directory for qemu-img to write, so that no other run picks the same name,
// and holds it locked until unlock is called, so that no other run takes it
// for a leftover (see package scratch). It first removes the temporary files
// of dest that earlier runs left when they were killed.
func reserveTemp(dest string) (tmp string, unlock func(), err error) {
	dir, base := filepath.Split(dest)
	if dir == "" {
		dir = "."
	}
	prefix := "." + base + "."
	if _, err := scratch.ReclaimFiles(dir, prefix, tempSuffix); err != nil {
		return "", nil, err
	}
	file, err := scratch.CreateLocked(dir, prefix, tempSuffix, tempFileMode)
	if err != nil {
		return "", nil, fmt.Errorf("creating a temporary file beside %q: %w", dest, err)
	}
	return file.Name(), func() { file.Close() }, nil
}

// checkSourceUnchanged fails when src was modified while qemu-img read it:
// the copy may then mix old and new data.
func (j *job) checkSourceUnchanged() error {
	now, err := os.Stat(j.src)
	if err != nil {
		return fmt.Errorf("src %q after the conversion: %w", j.src, err)
	}
	if !now.ModTime().Equal(j.srcStat.ModTime()) || now.Size() != j.srcStat.Size() {
		return fmt.Errorf("src %q was modified during the conversion; run again once it no longer changes", j.src)
	}
	return nil
}

// syncFile flushes a file's or directory's data and metadata to disk (fsync).
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
