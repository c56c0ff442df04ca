// Package convert converts disk images from one format to another with
// qemu-img, safely and only when needed.
//
//	res, err := convert.Convert(ctx, convert.Request{
//		Src:        "/srv/images/debian-12.raw",
//		Dest:       "/srv/images/debian-12.qcow2",
//		DestFormat: "qcow2",
//	})
//	// res.Changed is false when dest was already up to date.
//
// Plan answers the same question without writing anything (Ansible's check
// mode), and Inspect reads an image's format and sizes.
//
// # Formats
//
// Formats use qemu-img's names. DestFormats lists those Convert writes: raw,
// qcow2, qed, vdi, vhdx, vmdk and vpc. SrcFormats lists those it reads: the
// same plus qemu-img's read-mostly formats (qcow, parallels, dmg, bochs,
// cloop). Two names that Glance and most other tools use are accepted as
// well: "vhd" means qemu-img's "vpc", and "iso" (source only) means "raw".
// A format is also checked against the formats the installed qemu-img was
// built with, so a build that lacks one gets a clear error, not qemu-img's.
//
// The source format is the one the caller gives, or else the one qemu-img
// detects from the file's contents (qemu-img info); it is never guessed from
// the file name. Detection only ever says "raw" for a file it does not
// recognise, and any file is a valid raw image, so Convert refuses a file it
// detected as raw that cannot be a disk image: an empty file, a file whose
// size is not a whole number of 512-byte sectors (a text file, a truncated
// download), or a file that starts with the magic number of gzip, bzip2, xz
// or zstd (a compressed download). Giving SrcFormat "raw" converts such a
// file anyway.
//
// # Safety
//
// Convert refuses sources that name other files: a backing file, a qcow2
// external data file, or VMDK extents in other files. qemu-img would read
// those files and copy them into the result, which, for an image that came
// from elsewhere, can be any file of the host (the reason OpenStack checks
// uploaded images for the same). Encrypted sources are refused too. Paths are
// made absolute before they reach qemu-img, so that a file name containing a
// colon is never taken for a protocol ("nbd:", "json:").
//
// Verify checks an image that came from elsewhere before anything uses it:
// read as the format given (never probed), it must name no other file (seen
// in its own header first, so that qemu-img never opens what a hostile image
// names: a VMDK extent that is a FIFO hangs qemu-img info), not be
// encrypted, pass qemu-img check (corruption, truncation) and have a virtual
// size within a bound. Its errors never quote what the image holds.
//
// Convert never leaves a partial file where a finished one belongs: qemu-img
// writes a hidden temporary file in dest's directory (".<dest name>.<random>.tmp"),
// which is flushed to disk and renamed over dest only after qemu-img succeeded
// and the result was checked. On any failure, and when the context is
// cancelled, the temporary file is removed and dest is left as it was. A
// replaced dest keeps its permission bits.
//
// # Up to date
//
// Unless Request.Force is set, Convert does not write when dest already
// exists, has the requested format and the source's virtual size, and was
// modified no earlier than src (make's rule). Whether an existing qcow2 dest
// is compressed is not checked: set Force to recompress one.
//
// # Speed
//
// qemu-img convert runs with -m (parallel coroutines, WithCoroutines) and,
// where it is safe and useful, -W (out-of-order writes, WithOutOfOrderWrites):
// by default for raw targets, whose bytes do not depend on the write order,
// and for compressed qcow2, where it lets several clusters be compressed at
// once. Uncompressed qcow2 and the other formats are written in order, since
// out-of-order writes scatter their clusters, made no measurable difference
// and make the output's bytes differ from run to run.
//
// qemu-img convert writes with its "unsafe" cache mode (no flushes); Convert
// flushes the finished file once with fsync before renaming it.
//
// The qemu-img documentation (qemu-img(1), "convert") describes the options.
//
// # Streaming
//
// An image converted only to be uploaded need not be written to disk and
// read back: a Stream is a converted image read once, in order, with its
// size known before its first byte, so that an upload can start at once and
// announce its length.
//
//   - To raw, StreamRaw reads a qcow2 image's data clusters from its file
//     where `qemu-img map` places them, and gives zeros for the rest: qemu
//     parses the image, the bytes are read once, with no process between.
//     An image with data that has no place in its file (compressed
//     clusters), and the other formats, are served read-only by qemu-nbd on
//     a Unix socket and read over NBD, a few reads ahead. Either way: no
//     converted copy, no temporary file. OpenRaw inspects the image once
//     (WithInfo reuses Verify's qemu-img info) for any number of readings.
//   - To qcow2, a Qcow2Writer takes the raw disk as it is downloaded, keeps
//     the clusters that are not all zeros in a file, and Stream returns the
//     image's metadata, computed in memory, followed by those clusters: qcow2
//     whose metadata comes first can be written in one pass once the
//     allocated clusters are known, which a download in order tells.
//
// Neither checks the source: check an image from elsewhere with Verify
// before StreamRaw serves it.
package convert
