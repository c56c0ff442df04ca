package fetch_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/gzip"

	"github.com/imageops/cloud/gomodules/fetch"
)

// gzipFile writes data gzip-compressed to a new file and returns its path and
// the SHA-256 of the compressed bytes, as a publisher would list it.
func gzipFile(dir string, data []byte) (string, string) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	path := filepath.Join(dir, "image.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		panic(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return path, hex.EncodeToString(sum[:])
}

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	image := append([]byte("QFI\xfb"), make([]byte, 1000)...) // the start of a qcow2
	path, sum := gzipFile(dir, image)

	sums, err := fetch.ParseChecksums("sha256:"+sum, "")
	if err != nil {
		panic(err)
	}
	src, err := fetch.Open(context.Background(), "file://"+path, fetch.WithChecksums(sums...))
	if err != nil {
		panic(err)
	}
	defer src.Close()

	head, _ := src.Peek(fetch.FormatHeaderLen)
	fmt.Println("compression:", src.Compression(), "format:", fetch.DetectFormat(head))
	n, err := io.Copy(io.Discard, src) // an upload would read src here
	fmt.Println("read:", n, err)
	d, _ := src.Digests()
	fmt.Println("uploaded bytes' sha512 is the decompressed one:", d.SHA512 != d.RawSHA512)
	// Output:
	// compression: gzip format: qcow2
	// read: 1004 <nil>
	// uploaded bytes' sha512 is the decompressed one: true
}

func ExampleDownload() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path, _ := gzipFile(dir, []byte("kernel bytes"))
	wrong := fetch.Checksum{Algorithm: fetch.SHA256, Hex: "0000000000000000000000000000000000000000000000000000000000000000"}

	_, err := fetch.Download(context.Background(), path, filepath.Join(dir, "vmlinuz"), fetch.WithChecksums(wrong))
	fmt.Println("mismatch:", errors.Is(err, fetch.ErrChecksumMismatch))
	_, statErr := os.Stat(filepath.Join(dir, "vmlinuz"))
	fmt.Println("file left behind:", statErr == nil)

	res, err := fetch.Download(context.Background(), path, filepath.Join(dir, "vmlinuz"), fetch.WithDiskFormat("aki"))
	fmt.Println(res.Compression, res.Decompressed, err)
	// Output:
	// mismatch: true
	// file left behind: false
	// gzip false <nil>
}
