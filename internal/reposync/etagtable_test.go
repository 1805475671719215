package reposync

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/store"
)

// etagForms are ETags of every form the table knows, and of none, with
// the form each must be kept in.
var etagForms = []struct {
	etag string
	form etagForm
}{
	{`"9e107d9d372bb6826bd81d3542a419d6"`, etagMD5},      // S3 simple PUT
	{`"9E107D9D372BB6826BD81D3542A419D6"`, etagOther},    // upper-case hex
	{`9e107d9d372bb6826bd81d3542a419d6`, etagOther},      // unquoted
	{`"9e107d9d372bb6826bd81d3542a419d6-12"`, etagOther}, // multipart
	{`W/"9e107d9d372bb6826bd81d3542a419d6"`, etagOther},  // weak
	{`"9e107d9d372bb6826bd81d3542a419d"`, etagOther},     // 31 digits
	{`"9e107d9d372bb6826bd81d3542a419g6"`, etagOther},    // not hex
	{"", etagShort},                                                                   // none given
	{`"x"`, etagShort + 3},                                                            // short, kept as is
	{"CAE=", etagShort + 4},                                                           // GCS generation
	{"0123456789abcdef", etagShort + 16},                                              // 16 bytes, kept as is
	{"\x00\xff\"-0123456789ab", etagShort + 16},                                       // any bytes
	{`"18a2b3c4d5e6f789-1a"`, etagSynth},                                              // file://, mem://
	{`"-3b9aca00a000-a"`, etagSynth},                                                  // a time before 1970
	{fmt.Sprintf(`"%x-%x"`, math.MaxInt64, math.MaxInt64), etagSynth},                 // largest
	{fmt.Sprintf(`"%x-%x"`, math.MinInt64, 0), etagSynth},                             // smallest
	{`"18A2B3C4D5E6F789-1a"`, etagOther},                                              // upper-case
	{`"018a2b3c4d5e6f789-1a"`, etagOther},                                             // leading zero
	{`"+18a2b3c4d5e6f789-1a"`, etagOther},                                             // sign
	{`"18a2b3c4d5e6f789--1a"`, etagOther},                                             // negative size
	{`"18a2b3c4d5e6f789a-1a"`, etagOther},                                             // beyond int64
	{`"18a2b3c4d5e6f789_1a"`, etagOther},                                              // no dash
	{`18a2b3c4d5e6f789-1a"`, etagOther},                                               // unquoted start
	{`"0x8DC5A1B2C3D4E5F"`, etagAzure},                                                // Azure
	{`"0xFFFFFFFFFFFFFFFF"`, etagAzure},                                               // largest
	{`"0x8dc5a1b2c3d4e5f"`, etagOther},                                                // lower-case
	{`"0x08DC5A1B2C3D4E5F"`, etagOther},                                               // leading zero
	{`"0x1FFFFFFFFFFFFFFFF"`, etagOther},                                              // beyond uint64
	{`0x8DC5A1B2C3D4E5F12`, etagOther},                                                // unquoted
	{strings.Repeat("long opaque etag ", 8), etagOther},                               // long
	{`"d41d8cd98f00b204e9800998ecf8427e"` + "\n", etagOther},                          // trailing byte
	{`"` + strings.Repeat("0", 32) + `"`, etagMD5},                                    // all zero
	{`"` + strings.Repeat("f", 32) + `"`, etagMD5},                                    // all f
	{`"7` + strings.Repeat("a", 15) + "-" + strings.Repeat("b", 15) + `"`, etagSynth}, // 34 bytes, not an MD5
}

// Issue 20: every ETag comes back from the table byte for byte, whatever
// its form; those of the forms stores give are kept compactly.
func TestETagTableRoundTrip(t *testing.T) {
	tab := newETagTable(len(etagForms) + 1)
	for i, c := range etagForms {
		tab.set(i, c.etag)
	}
	for i, c := range etagForms {
		if got := tab.get(i); got != c.etag {
			t.Errorf("%q came back as %q", c.etag, got)
		}
		if got := tab.recs[i].form; got != c.form {
			t.Errorf("%q is kept in form %d, want %d", c.etag, got, c.form)
		}
	}
	last := len(etagForms)
	if tab.has(last) || tab.get(last) != "" || tab.count() != len(etagForms) {
		t.Errorf("a slot never set: has %v, get %q; count %d, want %d", tab.has(last), tab.get(last), tab.count(), len(etagForms))
	}
	// A slot set again keeps the last ETag, and drops a side-map copy.
	tab.set(1, `"9e107d9d372bb6826bd81d3542a419d6"`)
	if tab.get(1) != `"9e107d9d372bb6826bd81d3542a419d6"` || tab.recs[1].form != etagMD5 {
		t.Errorf("reset slot: %q in form %d", tab.get(1), tab.recs[1].form)
	}
	if _, ok := tab.other[1]; ok {
		t.Error("a slot set again to a compact form still has its side-map copy")
	}
	tab.set(0, "W/x-longer-than-sixteen-bytes")
	if tab.get(0) != "W/x-longer-than-sixteen-bytes" {
		t.Errorf("reset slot to another form: %q", tab.get(0))
	}
}

// The ETags file:// and mem:// give their objects are of a compact form:
// were the stores to change them, every object would go to the side map.
func TestStoreETagsAreCompact(t *testing.T) {
	for _, dest := range []string{"mem://", "file://" + t.TempDir()} {
		b, err := store.Open(context.Background(), dest, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		obj, err := b.Put(context.Background(), "a.txt", strings.NewReader("body"), store.PutOptions{Size: 4})
		if err != nil {
			t.Fatal(err)
		}
		tab := newETagTable(1)
		tab.set(0, obj.ETag)
		if tab.recs[0].form != etagSynth || tab.get(0) != obj.ETag {
			t.Errorf("%s: ETag %q kept in form %d (want %d), back as %q", b.Kind(), obj.ETag, tab.recs[0].form, etagSynth, tab.get(0))
		}
	}
}

// Any string set is got back unchanged.
func FuzzETagTable(f *testing.F) {
	for _, c := range etagForms {
		f.Add(c.etag)
	}
	f.Fuzz(func(t *testing.T, etag string) {
		tab := newETagTable(2)
		tab.set(1, etag)
		if got := tab.get(1); got != etag {
			t.Fatalf("%q came back as %q", etag, got)
		}
	})
}
