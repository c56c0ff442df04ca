package convert

import (
	"errors"
	"fmt"
	"strings"
)

// ErrQemuImgNotFound is matched (errors.Is) by the error of any call made
// when the qemu-img program cannot be found.
var ErrQemuImgNotFound = errors.New("qemu-img not found")

// ErrNotAnImage is matched (errors.Is) by Convert's and Plan's error for a
// source whose format was detected as raw but that cannot be a disk image:
// an empty file, a size that is not a whole number of 512-byte sectors, or
// compressed data. Giving SrcFormat "raw" converts it anyway.
var ErrNotAnImage = errors.New("not a disk image")

// ErrExternalFile is matched (errors.Is) by Convert's and Plan's error for a
// source that names other files (a backing file, an external data file, VMDK
// extents in other files), which Convert refuses to read.
var ErrExternalFile = errors.New("image refers to other files")

// QemuImgError reports a qemu-img run that failed.
type QemuImgError struct {
	// Args are qemu-img's arguments, without the program name.
	Args []string
	// Stderr is what qemu-img printed on stderr, trimmed.
	Stderr string
	// Err is the failure of the process (an *exec.ExitError, or a
	// context error when the run was cancelled).
	Err error
}

// Error gives the command, how it ended and qemu-img's own message, as in
// `qemu-img convert -f qcow2 ... failed (exit status 1): qemu-img: Could not
// open '/x.raw': Image is not in qcow2 format`.
func (e *QemuImgError) Error() string {
	msg := fmt.Sprintf("qemu-img %s failed (%v)", strings.Join(e.Args, " "), e.Err)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// Unwrap returns Err, so that errors.Is(err, context.Canceled) holds for a
// cancelled run.
func (e *QemuImgError) Unwrap() error { return e.Err }
