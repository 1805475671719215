package source

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// mustParseBlob is ParseBlob for literals in tests.
func mustParseBlob(s string) Blob {
	b, err := ParseBlob(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestBlobRoundTrip(t *testing.T) {
	hello := "ce013625030ba8dba906f756967f9e9ca394464a" // echo hello | git hash-object --stdin
	for _, s := range []string{"", hello, "0000000000000000000000000000000000000000", "ffffffffffffffffffffffffffffffffffffffff",
		"asset-0-0", "asset-123456789-4096", "asset-9223372036854775807-9223372036854775807",
		"asset--5-7", "asset-5--7", "asset--9223372036854775808--1"} {
		b, err := ParseBlob(s)
		if err != nil {
			t.Errorf("ParseBlob(%q): %v", s, err)
			continue
		}
		if got := b.String(); got != s {
			t.Errorf("ParseBlob(%q).String() = %q", s, got)
		}
		if !b.Is(s) {
			t.Errorf("ParseBlob(%q).Is(itself) = false", s)
		}
		if b.Is(s+"0") || (s != "" && b.Is(s[1:])) || (s != "" && b.Is("")) {
			t.Errorf("ParseBlob(%q).Is accepts another string", s)
		}
		if b.IsZero() != (s == "") || b.IsSHA1() != (len(s) == 40) || b.IsAsset() != strings.HasPrefix(s, "asset-") {
			t.Errorf("ParseBlob(%q): kind IsZero %v IsSHA1 %v IsAsset %v", s, b.IsZero(), b.IsSHA1(), b.IsAsset())
		}
	}
	sum, ok := mustParseBlob(hello).Sum()
	if !ok || hex.EncodeToString(sum[:]) != hello || BlobFromSum(sum) != mustParseBlob(hello) {
		t.Errorf("Sum of %s: %x, %v", hello, sum, ok)
	}
	if BlobOf([]byte("hello\n")) != mustParseBlob(hello) || BlobSHABytes([]byte("hello\n")) != hello {
		t.Errorf("BlobOf(hello) = %s", BlobOf([]byte("hello\n")))
	}
	id, size, ok := AssetBlob(42, 1<<40).Asset()
	if !ok || id != 42 || size != 1<<40 || AssetBlob(42, 1<<40).String() != "asset-42-1099511627776" {
		t.Errorf("AssetBlob(42, 1<<40): %d %d %v %s", id, size, ok, AssetBlob(42, 1<<40))
	}
	if _, _, ok := BlobFromSum(sum).Asset(); ok {
		t.Error("a SHA-1 Blob is an asset")
	}
	if _, ok := AssetBlob(1, 2).Sum(); ok {
		t.Error("an asset Blob has a SHA-1")
	}
	// The zero value, a SHA-1 of zero bytes and an asset of zero bytes differ.
	var zero Blob
	if !zero.IsZero() || zero.String() != "" || zero == BlobFromSum([20]byte{}) || zero == AssetBlob(0, 0) ||
		BlobFromSum([20]byte{}) == AssetBlob(0, 0) || !zero.Is("") || zero.Is("0000000000000000000000000000000000000000") {
		t.Error("the zero Blob is not distinct")
	}
	if AssetBlob(math.MinInt64, -1).String() != "asset--9223372036854775808--1" {
		t.Errorf("negative asset: %s", AssetBlob(math.MinInt64, -1))
	}
}

func TestParseBlobRejects(t *testing.T) {
	for _, s := range []string{
		"CE013625030BA8DBA906F756967F9E9CA394464A", // upper case: manifests hold lower case only
		"ce013625030ba8dba906f756967f9e9ca394464",  // 39 digits
		"ce013625030ba8dba906f756967f9e9ca394464a0",
		"ce013625030ba8dba906f756967f9e9ca394464g",
		"asset-", "asset-1", "asset-1-", "asset--1", "asset-1-2-3", "asset-01-2", "asset-1-02", "asset-+1-2",
		"asset--0-1", "asset-1-x", "asset-99999999999999999999-1", "asset-1 -2", "asset-x-1-xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		"sha1:ce013625030ba8dba906f756967f9e9ca394", "-", " ", "\x00",
	} {
		b, err := ParseBlob(s)
		if err == nil {
			t.Errorf("ParseBlob(%q) = %v, want an error", s, b)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(s)) {
			t.Errorf("ParseBlob(%q): error %q does not name the value", s, err)
		}
		// A record holding such a string matches no entry.
		for _, b := range []Blob{{}, BlobOf([]byte("hello\n")), AssetBlob(1, 2)} {
			if b.Is(s) {
				t.Errorf("%v.Is(%q) = true", b, s)
			}
		}
	}
}

func TestBlobIsDoesNotAllocate(t *testing.T) {
	sha, asset := BlobOf([]byte("x")), AssetBlob(123456789, 4096)
	shaStr, assetStr := sha.String(), asset.String()
	if n := testing.AllocsPerRun(100, func() {
		if !sha.Is(shaStr) || !asset.Is(assetStr) || sha.Is(assetStr) {
			t.Fatal("Is")
		}
	}); n != 0 {
		t.Errorf("Is allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		if b, err := ParseBlob(shaStr); err != nil || b != sha {
			t.Fatal("ParseBlob")
		}
	}); n != 0 {
		t.Errorf("ParseBlob of a SHA-1 allocates %v times", n)
	}
}

// Issue 20: the blob identity lives inside the Entry (no string of its own)
// and the Entry is no larger for it (72 bytes with a string BlobSHA).
func TestEntrySize(t *testing.T) {
	if n := unsafe.Sizeof(Entry{}); n > 72 {
		t.Errorf("Entry is %d bytes, want at most 72", n)
	}
	if n := unsafe.Sizeof(Blob{}); n != 21 {
		t.Errorf("Blob is %d bytes, want 21", n)
	}
}

// ListingDigest is a Dir's revision: it stays the digest of the strings
// it hashed when Entry.BlobSHA was a string ("MODE SHA PATH\x00"), so an
// unchanged folder keeps its revision across the upgrade.
func TestListingDigestUnchanged(t *testing.T) {
	entries := []Entry{
		{Path: "a.txt", Mode: ModeFile, Blob: BlobOf([]byte("a\n"))},
		{Path: "assets/x.bin", Mode: ModeFile, Blob: AssetBlob(77, 5)},
		{Path: "bin/run", Mode: ModeExec, Blob: BlobOf([]byte("#!/bin/sh\n"))},
		{Path: "link", Mode: ModeSymlink, Blob: BlobOf([]byte("a.txt")), Target: "a.txt"},
		{Path: "sub", Mode: ModeSubmodule, Blob: mustParseBlob("0123456789abcdef0123456789abcdef01234567")},
		{Path: "zero", Mode: ModeFile},
	}
	// The old form, spelled out: the strings BlobSHA held.
	old := []string{
		"100644 " + BlobSHABytes([]byte("a\n")) + " a.txt",
		"100644 asset-77-5 assets/x.bin",
		"100755 " + BlobSHABytes([]byte("#!/bin/sh\n")) + " bin/run",
		"120000 " + BlobSHABytes([]byte("a.txt")) + " link",
		"160000 0123456789abcdef0123456789abcdef01234567 sub",
		"100644  zero",
	}
	h := sha256.New()
	for _, l := range old {
		h.Write([]byte(l + "\x00"))
	}
	if got, want := ListingDigest(entries), hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("ListingDigest = %s, the old form gives %s", got, want)
	}
}

// FuzzParseBlob: ParseBlob never panics, names the value in its errors, and
// what it accepts round-trips exactly through String and Is.
func FuzzParseBlob(f *testing.F) {
	for _, s := range []string{"", "ce013625030ba8dba906f756967f9e9ca394464a", "CE013625030BA8DBA906F756967F9E9CA394464A",
		"asset-1-2", "asset--1--2", "asset-01-2", "asset-9223372036854775808-1", "asset-", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBlob(s)
		if err != nil {
			if !strings.Contains(err.Error(), "blob ") || b != (Blob{}) {
				t.Fatalf("ParseBlob(%q): %v, %v", s, b, err)
			}
			if BlobOf([]byte(s)).Is(s) || AssetBlob(1, 1).Is(s) || (Blob{}).Is(s) {
				t.Fatalf("%q is not a blob but Is matches it", s)
			}
			return
		}
		if b.String() != s || !b.Is(s) {
			t.Fatalf("ParseBlob(%q) = %v: String %q, Is %v", s, b, b.String(), b.Is(s))
		}
		if again, err := ParseBlob(b.String()); err != nil || again != b {
			t.Fatalf("ParseBlob(String of %q) = %v, %v", s, again, err)
		}
	})
}
