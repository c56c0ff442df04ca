package convert

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
)

const (
	// defaultQemuImg is looked up in PATH.
	defaultQemuImg = "qemu-img"
	// defaultQemuNBD is looked up in PATH.
	defaultQemuNBD = "qemu-nbd"
	// defaultCoroutines is qemu-img convert's -m: with the source read
	// uncached, 16 converted a 2 GiB ext4 image about 1.7 times as fast as 1
	// (qemu-img's own default is 8).
	defaultCoroutines = 16
	// maxCoroutines is qemu-img's upper bound for -m.
	maxCoroutines = 16
)

// Option configures Convert, Plan and Inspect. Options reject bad values when
// applied, before anything runs.
type Option func(*options) error

type options struct {
	qemuImg    string
	qemuNBD    string
	coroutines int
	// outOfOrder is nil for the default (raw targets and compressed qcow2).
	outOfOrder *bool
	// noSync skips flushing the destination to disk before the rename.
	noSync bool
	// verified skips qemu-img check of the source: Verify already ran.
	verified bool
	// info is the image's Info from Verify or Inspect (WithInfo), or nil.
	info *Info
}

func makeOptions(opts []Option) (*options, error) {
	o := &options{qemuImg: defaultQemuImg, qemuNBD: defaultQemuNBD, coroutines: defaultCoroutines}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// WithoutSync skips the fsync of the finished destination before it is
// renamed into place: for a destination that is read once and deleted, such
// as an image converted only to be uploaded, where durability across a crash
// does not matter and the flush costs time (about 1.5 s per GiB here).
// Default: the destination is flushed to disk.
func WithoutSync() Option {
	return func(o *options) error {
		o.noSync = true
		return nil
	}
}

// SourceVerified tells Convert and Plan that the source already passed
// Verify, so its qemu-img check is not run a second time. Default: a source
// in a format with structure is checked (qemu-img check) before it is
// converted, and a corrupt or truncated one is refused.
func SourceVerified() Option {
	return func(o *options) error {
		o.verified = true
		return nil
	}
}

// WithInfo gives OpenRaw and StreamRaw the image's Info, as Verify (or
// Inspect with the same format) returned it for the same file, so that
// qemu-img info is not run on it a second time; an Info of another path is
// ignored. Default: qemu-img info runs.
func WithInfo(info Info) Option {
	return func(o *options) error {
		o.info = &info
		return nil
	}
}

// infoOf returns the Info given by WithInfo for abs read as format, or runs
// qemu-img info.
func (o *options) infoOf(ctx context.Context, qemuImg, abs, format string) (Info, error) {
	if o.info != nil && o.info.Path == abs && o.info.Format == format {
		return *o.info, nil
	}
	return inspect(ctx, qemuImg, abs, format)
}

// WithQemuImg runs the qemu-img at path, or, for a name without a slash, the
// one found under that name in PATH. Default: "qemu-img" from PATH.
func WithQemuImg(path string) Option {
	return func(o *options) error {
		if path == "" {
			return errors.New("WithQemuImg: the qemu-img path is empty")
		}
		o.qemuImg = path
		return nil
	}
}

// WithQemuNBD runs the qemu-nbd at path, or, for a name without a slash,
// the one found under that name in PATH; StreamRaw serves images with it.
// Default: "qemu-nbd" from PATH.
func WithQemuNBD(path string) Option {
	return func(o *options) error {
		if path == "" {
			return errors.New("WithQemuNBD: the qemu-nbd path is empty")
		}
		o.qemuNBD = path
		return nil
	}
}

// WithCoroutines sets how many coroutines qemu-img convert runs at once
// (qemu-img's -m), from 1 to 16. More help when reads have latency (a cold
// cache, network storage); with a warm cache on local disk they make no
// measurable difference. Default: 16.
func WithCoroutines(n int) Option {
	return func(o *options) error {
		if n < 1 || n > maxCoroutines {
			return fmt.Errorf("WithCoroutines: %d coroutines: expected 1 to %d (qemu-img's limit)", n, maxCoroutines)
		}
		o.coroutines = n
		return nil
	}
}

// WithOutOfOrderWrites lets qemu-img write clusters in the order they are
// ready rather than in guest order (qemu-img convert -W). true uses it for
// every target, false for none. Out-of-order writes speed up compressed qcow2
// (clusters are compressed in parallel) but scatter the clusters of formats
// that allocate as they go (qcow2, vmdk, ...), so that two conversions of the
// same source differ byte for byte. Default: used for raw targets and for
// compressed qcow2, not otherwise.
func WithOutOfOrderWrites(enabled bool) Option {
	return func(o *options) error {
		o.outOfOrder = &enabled
		return nil
	}
}

// useOutOfOrder tells whether to pass -W for a conversion to format.
func (o *options) useOutOfOrder(format string, compress bool) bool {
	if o.outOfOrder != nil {
		return *o.outOfOrder
	}
	return format == "raw" || (format == "qcow2" && compress)
}

// lookQemuImg resolves the configured qemu-img to a path.
func (o *options) lookQemuImg() (string, error) {
	path, err := exec.LookPath(o.qemuImg)
	if err != nil {
		if o.qemuImg == defaultQemuImg {
			return "", fmt.Errorf("%w in PATH: install qemu-utils (Debian, Ubuntu) or qemu-img (Fedora, RHEL)", ErrQemuImgNotFound)
		}
		return "", fmt.Errorf("%w at %q (WithQemuImg): %v", ErrQemuImgNotFound, o.qemuImg, err)
	}
	return path, nil
}
