package inboxtest

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/ghsync/ghsync/internal/testkit/mototest"
	"net/http"
	"testing"
)

// EnvRequireMoto=1 turns a missing moto_server into a test failure (CI).
const EnvRequireMoto = "GHSYNC_REQUIRE_MOTO"

// Moto is a moto_server process on a free loopback port.
type Moto struct {
	// URL is the endpoint, e.g. http://127.0.0.1:4566.
	URL string
}

// SESMessage is one message moto's SES accepted.
type SESMessage struct {
	Source       string              `json:"source"`
	Destinations map[string][]string `json:"destinations"`
	Subject      string              `json:"subject"`
	Body         string              `json:"body"`
}

// StartMoto starts moto_server, stopped by t.Cleanup. It skips the test
// loudly when moto_server is not installed, or fails it when
// GHSYNC_REQUIRE_MOTO=1. It sets fake AWS credentials in the environment
// (t.Setenv) so SDK clients sign requests.
func StartMoto(t *testing.T) *Moto {
	t.Helper()
	m := &Moto{URL: mototest.Start(t, "SES email is not tested")}
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return m
}

// VerifySES registers addr as a verified SES identity (moto refuses
// unverified senders) through the SES v2 REST API.
func (m *Moto) VerifySES(t testing.TB, region, addr string) {
	t.Helper()
	// moto does not check signatures; a plain JSON POST creates the identity.
	body := fmt.Sprintf(`{"EmailIdentity":%q}`, addr)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, m.URL+"/v2/email/identities", stringsReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20260101/"+region+"/ses/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("create SES identity %s: %s", addr, resp.Status)
	}
}

// SESMessages returns what moto's SES has accepted (all regions).
func (m *Moto) SESMessages(t testing.TB) []SESMessage {
	t.Helper()
	resp, err := http.Get(m.URL + "/moto-api/data.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		SES struct {
			Message []SESMessage `json:"Message"`
		} `json:"ses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("decode moto data: %v", err)
	}
	return v.SES.Message
}
