package archive

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// rawTarHeader builds one ustar header block by hand, so tests can write
// headers Go's tar.Writer refuses to produce.
func rawTarHeader(name string, typ byte, size int64) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], "00000000000\x00")
	b[156] = typ
	copy(b[257:265], "ustar\x0000")
	for i := 148; i < 156; i++ {
		b[i] = ' '
	}
	var sum int
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// paxSpamMember is one gzip member holding a ~1 MB pax extended header; a
// tar reader parses each one without returning an entry.
func paxSpamMember(t testing.TB) []byte {
	const size = 1_000_000
	value := strings.Repeat("a", size-len("1000000 comment=\n"))
	rec := fmt.Sprintf("%d comment=%s\n", size, value)
	if len(rec) != size {
		t.Fatalf("record is %d bytes", len(rec))
	}
	block := append(rawTarHeader("spam", 'x', size), rec...)
	return gz(t, block) // the caller appends the padding to a 512-byte block
}

func memDelta(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestGzipBombPaxSpam: a ~1 MB gzip stream that expands to 256 MB of pax
// headers (never an entry) is stopped by the decompressed-size bound.
func TestGzipBombPaxSpam(t *testing.T) {
	// 1,000,000 bytes of pax data need 1,000,448 bytes with padding; the
	// padding is part of the next member.
	pad := gz(t, make([]byte, 1_000_448-1_000_000))
	one := append(paxSpamMember(t), pad...)
	bomb := bytes.Repeat(one, 256)
	t.Logf("bomb: %d bytes compressed, %d MB expanded", len(bomb), 256)

	lim := Limits{MaxEntries: 10, MaxTotalSize: 1 << 20}
	start := time.Now()
	var err error
	alloc := memDelta(func() {
		r, e := NewTarGz(bytes.NewReader(bomb), Options{Limits: lim})
		if e != nil {
			err = e
			return
		}
		_, err = readAll(r)
	})
	elapsed := time.Since(start)
	ue := asUnsafe(err)
	if ue == nil || !strings.Contains(ue.Reason, "decompressed archive exceeds") {
		t.Fatalf("err = %v, want a decompressed-size refusal", err)
	}
	if elapsed > 5*time.Second {
		t.Errorf("took %v", elapsed)
	}
	if alloc > 64<<20 {
		t.Errorf("allocated %d MB while refusing", alloc>>20)
	}
	t.Logf("refused in %v, %d MB allocated in total", elapsed, alloc>>20)
}

// TestGzipBombHonestHeader: a 1 GiB entry of zeros (about 1 MB compressed)
// is refused from its header, without decompressing the content.
func TestGzipBombHonestHeader(t *testing.T) {
	zeros := gz(t, make([]byte, 1<<20))
	bomb := append(gz(t, rawTarHeader("w/zeros", '0', 1<<30)), bytes.Repeat(zeros, 1024)...)
	start := time.Now()
	r, err := NewTarGz(bytes.NewReader(bomb), Options{StripWrapper: true, Limits: Limits{MaxEntrySize: 100 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAll(r)
	checkRefusal(t, err, "w/zeros", "exceeds the limit")
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusal took %v", d)
	}
}

// TestZipBombLyingSize: a zip entry that declares 100 bytes but inflates to
// 16 MiB is stopped at byte 101, with bounded memory.
func TestZipBombLyingSize(t *testing.T) {
	const real = 16 << 20
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, real)
	if _, err := fw.Write(zeros); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "bomb.bin", Method: zip.Deflate,
		CRC32: crc32.ChecksumIEEE(zeros[:100]), CompressedSize64: uint64(comp.Len()), UncompressedSize64: 100})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(comp.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	t.Logf("zip bomb: %d bytes compressed, %d MB expanded", len(data), real>>20)

	var n int64
	alloc := memDelta(func() {
		r, e := NewZip(bytes.NewReader(data), int64(len(data)), Options{})
		if e != nil {
			err = e
			return
		}
		_, rd, e := r.Next()
		if e != nil {
			err = e
			return
		}
		n, err = io.Copy(io.Discard, rd)
	})
	if err == nil {
		t.Fatal("lying zip entry read without error")
	}
	if n > 100 {
		t.Errorf("read %d bytes of a 100-byte entry", n)
	}
	if alloc > 8<<20 {
		t.Errorf("allocated %d MB", alloc>>20)
	}
	t.Logf("stopped after %d bytes: %v", n, err)
}

// TestTarTotalCountsSkippedContent: content a caller never reads still
// counts against the total.
func TestTarTotalCountsSkippedContent(t *testing.T) {
	ms := []member{{name: "a", body: strings.Repeat("x", 600)}, {name: "b", body: strings.Repeat("y", 600)}}
	r := NewTar(bytes.NewReader(buildTar(t, "", ms)), Options{Limits: Limits{MaxTotalSize: 1000}})
	if _, _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, _, err := r.Next()
	checkRefusal(t, err, "b", "total limit")
}
