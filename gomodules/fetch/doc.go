// Package fetch streams image bytes from a source URL, verifying publisher
// checksums and undoing compression on the way.
//
// community_image uses it to move a cloud image from where it is published
// (an http, https or file URL) into Glance without keeping a copy on disk:
//
//	sums, err := fetch.ParseChecksums(opts.Checksum, opts.ChecksumSHA512)
//	src, err := fetch.Open(ctx, opts.URL, fetch.WithChecksums(sums...))
//	defer src.Close()
//	header, _ := src.Peek(fetch.FormatHeaderLen)
//	format := fetch.DetectFormat(header) // "qcow2", "raw", ...
//	// upload src; a Read error, not io.EOF, ends a stream that failed its checksum
//	d, _ := src.Digests() // d.SHA512 is what Glance computes as os_hash_value
//
// When the bytes must be on disk first (for example to convert them with
// qemu-img), Download writes them to a file that appears only once complete
// and verified.
//
// # Checksums
//
// Checksums are verified over the bytes as downloaded, before any
// decompression, because that is what publishers checksum: the SHA256SUMS and
// SHA512SUMS files next to cloud images name the .xz or .qcow2 file as it is
// served. ParseChecksum takes every form Ansible's get_url module takes:
// "<algorithm>:<hex>" for md5, sha1, sha224, sha256, sha384 and sha512, and
// "<algorithm>:<URL of a checksum file>", which Open reads first, taking the
// digest listed under the source's file name. MD5 and SHA-1 are accepted
// because publishers still print them, but Checksum.Weak reports them: a
// matching MD5 or SHA-1 catches a broken download, not a deliberate change,
// so callers warn. A mismatch is reported by Read in place of io.EOF, as a
// *ChecksumMismatchError that matches ErrChecksumMismatch with errors.Is, so a
// consumer that copies the stream to its end can never take a corrupt stream
// for a complete one.
//
// # Decompression
//
// In DecompressAuto mode a stream is decompressed when its first bytes are
// the magic number of gzip (RFC 1952), bzip2, xz (the .xz file format
// specification, tukaani.org) or zstd (RFC 8878). File names and
// Content-Type headers are never consulted: publishers name files
// inconsistently, and the magic bytes cannot lie. Kernels and ramdisks (disk
// formats "aki" and "ari", see WithDiskFormat) are left as they come in
// DecompressAuto mode, because a gzip-compressed initrd is booted compressed.
//
// # URLs and errors
//
// Accepted sources are http and https URLs, file URLs (file:///path or
// file://localhost/path) and absolute paths ("/srv/images/x.qcow2"). Relative
// paths are refused: a module runs in a temporary directory, so a relative
// path would silently name the wrong file.
//
// Credentials never appear in an error or a result: every URL in them is
// redacted by RedactURL, which hides the userinfo part of the URL and the
// values of query parameters that look like signatures or tokens. HTTP
// userinfo is sent as Basic authentication (RFC 7617), as net/http does.
//
// Transient failures (connection errors, stalls, HTTP 5xx, 408 and 429) are
// retried with exponential back-off only while nothing has been handed to the
// caller, that is during Open; once Open has returned, an error ends the
// stream, and the caller decides whether to start again.
package fetch
