package scratch

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// lockName is the lock file inside a working directory.
const lockName = ".lock"

// createAttempts bounds the tries at a unique name.
const createAttempts = 10

// Dir is a private working directory, locked while the run uses it.
type Dir struct {
	// Path is the directory's path.
	Path string
	lock *os.File
}

// MkdirLocked creates a private (0700) directory in parent named prefix
// followed by random characters, and locks it (see the package doc). A run
// reclaiming leftovers at the same moment can take the new lock file in the
// instant between its creation and its lock, and remove the directory: the
// lock is then checked to still be the file at its path, and another
// directory is made when it is not.
func MkdirLocked(parent, prefix string) (*Dir, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	for attempt := 0; ; attempt++ {
		dir, err := mkdirLockedOnce(parent, prefix)
		if err != nil || dir != nil {
			return dir, err
		}
		if attempt >= createAttempts {
			return nil, fmt.Errorf("creating a working directory in %q: removed by another run as soon as it was made", parent)
		}
	}
}

// mkdirLockedOnce makes and locks one directory; it returns nil, nil when
// another run removed the directory before the lock was taken.
func mkdirLockedOnce(parent, prefix string) (*Dir, error) {
	path, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return nil, err
	}
	lockPath := filepath.Join(path, lockName)
	lock, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = flock(lock, false)
	}
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		os.RemoveAll(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil // removed before the lock file was made
		}
		return nil, fmt.Errorf("locking %q: %w", path, err)
	}
	if !samePath(lock, lockPath) {
		lock.Close()
		return nil, nil
	}
	return &Dir{Path: path, lock: lock}, nil
}

// Remove removes the directory and everything in it, then unlocks it.
func (d *Dir) Remove() error {
	err := os.RemoveAll(d.Path)
	d.lock.Close()
	return err
}

// ReclaimDirs removes the directories in parent whose names start with
// prefix and that no live run holds: their lock file is unlocked, or (a run
// killed between creating the directory and its lock) missing. It returns
// the directories removed. Directories it cannot read are left alone.
func ReclaimDirs(parent, prefix string) ([]string, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil, fmt.Errorf("reading %q for leftovers of earlier runs: %w", parent, err)
	}
	var removed []string
	for _, entry := range entries {
		if !entry.IsDir() || !strings.HasPrefix(entry.Name(), prefix) {
			continue
		}
		path := filepath.Join(parent, entry.Name())
		if reclaimDir(path) {
			removed = append(removed, path)
		}
	}
	return removed, nil
}

func reclaimDir(path string) bool {
	lock, err := os.OpenFile(filepath.Join(path, lockName), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		// A run creates the lock right after the directory: give a run
		// in between a moment, then count it dead.
		info, statErr := os.Stat(path)
		if statErr != nil || !olderThanAMinute(info) {
			return false
		}
		return os.RemoveAll(path) == nil
	}
	if err != nil {
		return false
	}
	defer lock.Close()
	if flock(lock, true) != nil {
		return false // a live run holds it
	}
	return os.RemoveAll(path) == nil
}

// CreateLocked creates a new file named prefix + random characters + suffix
// in dir, with mode perm, and locks it. Close the file to unlock it. The
// lock is taken on the file that is at the path: a run that removed an
// unlocked file just created is noticed, and another name is tried.
func CreateLocked(dir, prefix, suffix string, perm os.FileMode) (*os.File, error) {
	for attempt := 0; ; attempt++ {
		var random [6]byte
		if _, err := rand.Read(random[:]); err != nil {
			return nil, fmt.Errorf("naming a temporary file: %w", err)
		}
		path := filepath.Join(dir, prefix+hex.EncodeToString(random[:])+suffix)
		file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) && attempt < createAttempts {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := flock(file, false); err != nil {
			file.Close()
			os.Remove(path)
			return nil, fmt.Errorf("locking %q: %w", path, err)
		}
		if samePath(file, path) {
			return file, nil
		}
		file.Close()
		if attempt >= createAttempts {
			return nil, fmt.Errorf("creating a temporary file in %q: removed by another run as soon as it was made", dir)
		}
	}
}

// ReclaimFiles removes the files in dir named prefix...suffix that no live
// run holds locked, and returns those removed.
func ReclaimFiles(dir, prefix, suffix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading %q for leftovers of earlier runs: %w", dir, err)
	}
	var removed []string
	for _, entry := range entries {
		name := entry.Name()
		if !entry.Type().IsRegular() || !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) {
			continue
		}
		path := filepath.Join(dir, name)
		if reclaimFile(path) {
			removed = append(removed, path)
		}
	}
	return removed, nil
}

func reclaimFile(path string) bool {
	file, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	defer file.Close()
	if flock(file, true) != nil || !samePath(file, path) {
		return false
	}
	return os.Remove(path) == nil
}

// flock takes an exclusive lock on file; with nonBlocking it fails at once
// when another holds it.
func flock(file *os.File, nonBlocking bool) error {
	how := syscall.LOCK_EX
	if nonBlocking {
		how |= syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(file.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

// samePath tells whether path still names the open file.
func samePath(file *os.File, path string) bool {
	opened, err := file.Stat()
	if err != nil {
		return false
	}
	named, err := os.Stat(path)
	return err == nil && os.SameFile(opened, named)
}

func olderThanAMinute(info fs.FileInfo) bool {
	return time.Since(info.ModTime()) > time.Minute
}
