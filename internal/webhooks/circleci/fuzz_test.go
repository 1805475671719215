package circleci

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// FuzzSignatureAndParse: arbitrary headers never verify unless they carry the
// right v1 HMAC, and Parse never panics and only accepts events with id and type.
func FuzzSignatureAndParse(f *testing.F) {
	f.Add("v1=00", []byte(`{"id":"a","type":"job-completed"}`))
	f.Add("v2=zz,v1=", []byte(`{}`))
	f.Add("", []byte(`[1]`))
	secrets := [][]byte{[]byte("k1"), []byte("k2")}
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		m := hmac.New(sha256.New, secrets[1])
		m.Write(body)
		good := hex.EncodeToString(m.Sum(nil))
		if err := VerifySignature(header, body, secrets); err == nil {
			// Only possible when the header holds a real signature.
			m1 := hmac.New(sha256.New, secrets[0])
			m1.Write(body)
			if !contains(header, good) && !contains(header, hex.EncodeToString(m1.Sum(nil))) {
				t.Fatalf("header %q verified without a valid signature", header)
			}
		}
		if err := VerifySignature("v1="+good, body, secrets); err != nil {
			t.Fatalf("valid signature refused: %v", err)
		}
		if ev, err := Parse(body); err == nil && (ev.ID == "" || ev.Type == "") {
			t.Fatalf("Parse accepted %q without id/type", body)
		}
	})
}

func contains(h, sig string) bool {
	h = strings.ToLower(h)
	for i := 0; i+len(sig) <= len(h); i++ {
		if h[i:i+len(sig)] == sig {
			return true
		}
	}
	return false
}
