package fetch

import (
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"os"
	"testing"
)

// benchSize is the size of the benchmark's decompressed stream.
const benchSize = 50 << 20

// benchImage is the first 50 MiB of Debian's netboot initrd, decompressed: a
// cpio archive of real programs and libraries, compressible like a disk image.
func benchImage(b *testing.B) string {
	requireFile(b, debianInitrd)
	return fixture(b, "bench.cpio", func(tb testing.TB, path string) {
		in, err := os.Open(debianInitrd)
		if err != nil {
			tb.Fatal(err)
		}
		defer in.Close()
		zr, err := gzip.NewReader(in)
		if err != nil {
			tb.Fatal(err)
		}
		out, err := os.Create(path)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.CopyN(out, zr, benchSize); err != nil {
			tb.Fatal(err)
		}
		if err := out.Close(); err != nil {
			tb.Fatal(err)
		}
	})
}

// BenchmarkOpen measures Open and reading to the end, with both checksums
// verified and, for the compressed cases, decompression: the throughput of
// the verify+decompress pipeline on a 50 MiB stream read from a local file
// (so the network does not count). MB/s are of the decompressed bytes.
func BenchmarkOpen(b *testing.B) {
	plain := benchImage(b)
	for _, c := range []Compression{CompressionNone, CompressionGzip, CompressionZstd, CompressionXZ, CompressionBzip2} {
		b.Run(string(c), func(b *testing.B) {
			path := plain
			if c != CompressionNone {
				path = fixture(b, "bench.cpio."+string(c), func(tb testing.TB, p string) { compressFile(tb, c, plain, p) })
			}
			served := readFile(b, path)
			sums := WithChecksums(Checksum{Algorithm: SHA256, Hex: sha256Hex(served)}, Checksum{Algorithm: SHA512, Hex: sha512Hex(served)})
			b.SetBytes(benchSize)
			b.ReportMetric(float64(len(served))/benchSize, "ratio")
			b.ResetTimer()
			for b.Loop() {
				src, err := Open(context.Background(), path, sums)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, src)
				src.Close()
				if err != nil || n != benchSize {
					b.Fatalf("read %d bytes: %v", n, err)
				}
			}
		})
	}
}

// BenchmarkDecompressOnly is BenchmarkOpen's baseline: the same files
// decompressed with nothing verified or hashed, so that the difference is
// what verification costs.
func BenchmarkDecompressOnly(b *testing.B) {
	plain := benchImage(b)
	for _, c := range []Compression{CompressionGzip, CompressionZstd, CompressionXZ, CompressionBzip2} {
		b.Run(string(c), func(b *testing.B) {
			path := fixture(b, "bench.cpio."+string(c), func(tb testing.TB, p string) { compressFile(tb, c, plain, p) })
			b.SetBytes(benchSize)
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				r, release, err := newDecompressor(c, bufio.NewReaderSize(f, MaxPeek))
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, r)
				release()
				f.Close()
				if err != nil || n != benchSize {
					b.Fatalf("read %d bytes: %v", n, err)
				}
			}
		})
	}
}
