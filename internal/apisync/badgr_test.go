package apisync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/apisync"
	"github.com/ghsync/ghsync/internal/apisync/apisynctest"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
)

const (
	badgrUser   = "sync@example.org"
	badgrPass   = "badgr-PASSWORD-s3cret"
	badgrIssuer = "IssuerEntity01"
)

func genBadges() []map[string]any {
	var out []map[string]any
	for i := 0; i < 3; i++ {
		out = append(out, map[string]any{
			"entityType": "BadgeClass", "entityId": fmt.Sprintf("BC%02d", i),
			"openBadgeId": fmt.Sprintf("https://api.badgr.io/public/badges/BC%02d", i),
			"createdAt":   "2024-01-02T03:04:05Z", "createdBy": "User1", "issuer": badgrIssuer,
			"name": fmt.Sprintf("Skill %d", i), "image": "https://media.badgr.io/b.png",
			"description": "A skill", "criteriaUrl": nil, "criteriaNarrative": "Do the thing",
			"alignments": []any{}, "tags": []any{"skill", fmt.Sprintf("level%d", i)},
			"expires": nil, "extensions": map[string]any{},
		})
	}
	return out
}

func genAssertions(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		a := map[string]any{
			"entityType": "Assertion", "entityId": fmt.Sprintf("AS%05d", i),
			"openBadgeId": fmt.Sprintf("https://api.badgr.io/public/assertions/AS%05d", i),
			"createdAt":   "2024-02-03T04:05:06Z", "badgeclass": fmt.Sprintf("BC%02d", i%3), "issuer": badgrIssuer,
			"image": "https://media.badgr.io/a.png",
			"recipient": map[string]any{"identity": fmt.Sprintf("user%d@example.org", i), "hashed": false,
				"type": "email", "plaintextIdentity": fmt.Sprintf("user%d@example.org", i), "salt": nil},
			"issuedOn": "2024-02-03T04:05:06Z", "narrative": nil,
			"evidence": []any{map[string]any{"url": fmt.Sprintf("https://github.com/u%d/pr/1", i), "narrative": "PR"}},
			"revoked":  i%10 == 0, "revocationReason": map[bool]any{true: "mistake", false: nil}[i%10 == 0],
			"expires": nil, "extensions": map[string]any{},
		}
		out[i] = a
	}
	return out
}

func badgrCfg(url string) apisync.BadgrConfig {
	return apisync.BadgrConfig{APIURL: url, Username: badgrUser, Password: badgrPass, Issuer: badgrIssuer, DeleteMissing: true}
}

// TestBadgrSuite: 3 badge classes and 1,200 assertions (some revoked) with num
// paging; steady state writes nothing; a rename updates the same row; an
// expired token mid-run is renewed once.
func TestBadgrSuite(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fake := apisynctest.NewBadgr(t, badgrUser, badgrPass)
		fake.SetBadgeClasses(badgrIssuer, genBadges())
		fake.SetAssertions(badgrIssuer, genAssertions(1200))
		deps, _, logs := testDeps(t, d)
		cfg := badgrCfg(fake.URL())

		sum, err := apisync.SyncBadgr(ctx, deps, cfg, apisync.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, sum, "badges", counts{ins: 3})
		wantCounts(t, sum, "assertions", counts{ins: 1200})
		if sum.Pages != 1+12 || sum.TokenRequests != 1 || sum.Requests != 14 {
			t.Fatalf("pages=%d token_requests=%d requests=%d; want 13, 1, 14", sum.Pages, sum.TokenRequests, sum.Requests)
		}
		q := fake.ListQueries()[1]
		if q.Get("include_revoked") != "true" || q.Get("include_expired") != "true" || q.Get("num") != "100" {
			t.Fatalf("assertions query = %v", q)
		}
		var revoked int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM assertions WHERE revoked = ?", true).Scan(&revoked); err != nil || revoked != 120 {
			t.Fatalf("revoked rows = %d, %v; want 120", revoked, err)
		}
		var ident, evURL, reason string
		qr := fmt.Sprintf("SELECT %s, %s, %s FROM assertions WHERE %s = ?", quoteIdent(d, "recipient_identity"),
			quoteIdent(d, "evidence_url"), quoteIdent(d, "revocationReason"), quoteIdent(d, "entityId"))
		if err := d.QueryRow(ctx, qr, "AS00010").Scan(&ident, &evURL, &reason); err != nil ||
			ident != "user10@example.org" || evURL != "https://github.com/u10/pr/1" || reason != "mistake" {
			t.Fatalf("AS00010 = %q %q %q, %v", ident, evURL, reason, err)
		}
		writesB := writeCounter(t, d, "badges")
		writesA := writeCounter(t, d, "assertions")

		// Steady state, with the access token expiring mid-run: renewed once
		// (refresh grant), nothing written.
		client := &http.Client{Transport: expireTokensAfter(fake, 5)}
		deps.HTTP = client
		sum, err = apisync.SyncBadgr(ctx, deps, cfg, apisync.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, sum, "badges", counts{unch: 3})
		wantCounts(t, sum, "assertions", counts{unch: 1200})
		if a, b := writesA(), writesB(); a+b != 0 || sum.Statements != 0 {
			t.Fatalf("steady state wrote %d+%d rows, %d statements", a, b, sum.Statements)
		}
		if fake.Unauthorized() != 1 || fake.Grants()["refresh_token"] != 1 {
			t.Fatalf("401s=%d grants=%v; want one 401 and one refresh", fake.Unauthorized(), fake.Grants())
		}

		// A badge class renamed upstream updates its row; no duplicate.
		deps.HTTP = nil
		bs := genBadges()
		bs[1]["name"] = "Skill One (renamed)"
		fake.SetBadgeClasses(badgrIssuer, bs)
		sum, err = apisync.SyncBadgr(ctx, deps, cfg, apisync.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, sum, "badges", counts{upd: 1, unch: 2})
		var name string
		if err := d.QueryRow(ctx, fmt.Sprintf("SELECT name FROM badges WHERE %s = ?", quoteIdent(d, "entityId")), "BC01").Scan(&name); err != nil || name != "Skill One (renamed)" {
			t.Fatalf("BC01 name = %q, %v", name, err)
		}
		if n := countRows(t, d, "badges"); n != 3 {
			t.Fatalf("badges rows = %d", n)
		}
		if n := writesB(); n != 1 {
			t.Fatalf("badges rows written = %d", n)
		}
		for _, s := range []string{badgrPass} {
			if strings.Contains(logs.String(), s) {
				t.Fatal("a secret appears in the log")
			}
		}
	})
}

// expireTokensAfter expires the fake's access tokens after the nth request.
func expireTokensAfter(fake *apisynctest.Badgr, n int) http.RoundTripper {
	var mu sync.Mutex
	seen := 0
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		mu.Lock()
		seen++
		if seen == n {
			fake.ExpireTokens()
		}
		mu.Unlock()
		return resp, err
	})
}

// TestBadgrRefreshBeforeExpiry: a token expiring within a minute is renewed
// with the refresh token before it is used, so no request is answered 401.
func TestBadgrRefreshBeforeExpiry(t *testing.T) {
	d := dbtest.SQLite(t)
	fake := apisynctest.NewBadgr(t, badgrUser, badgrPass)
	fake.TokenTTL = 30 * time.Second
	fake.SetBadgeClasses(badgrIssuer, genBadges())
	fake.SetAssertions(badgrIssuer, genAssertions(250))
	deps, _, _ := testDeps(t, d)
	sum, err := apisync.SyncBadgr(context.Background(), deps, badgrCfg(fake.URL()), apisync.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, sum, "assertions", counts{ins: 250})
	g := fake.Grants()
	if fake.Unauthorized() != 0 || g["password"] != 1 || g["refresh_token"] != 3 {
		t.Fatalf("401s=%d grants=%v; want 0, one password grant and a refresh before each of the 3 later requests", fake.Unauthorized(), g)
	}
}

// TestBadgrEnvelopeFailure: status.success false is an error naming
// status.description; nothing is deleted.
func TestBadgrEnvelopeFailure(t *testing.T) {
	d := dbtest.SQLite(t)
	fake := apisynctest.NewBadgr(t, badgrUser, badgrPass)
	fake.SetBadgeClasses(badgrIssuer, genBadges())
	fake.SetAssertions(badgrIssuer, genAssertions(10))
	deps, _, _ := testDeps(t, d)
	if _, err := apisync.SyncBadgr(context.Background(), deps, badgrCfg(fake.URL()), apisync.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	fake.SetBadgeClasses(badgrIssuer, genBadges()[:1])
	fake.FailNext("Issuer is archived")
	_, err := apisync.SyncBadgr(context.Background(), deps, badgrCfg(fake.URL()), apisync.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), `status.description "Issuer is archived"`) || !strings.Contains(err.Error(), "nothing deleted") {
		t.Fatalf("err = %v", err)
	}
	if n := countRows(t, d, "badges"); n != 3 {
		t.Fatalf("badges = %d after a failed listing; want 3", n)
	}
	// Unknown issuer: Badgr's own envelope error.
	cfg := badgrCfg(fake.URL())
	cfg.Issuer = "Nope"
	_, err = apisync.SyncBadgr(context.Background(), deps, cfg, apisync.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "Could not find issuer") {
		t.Fatalf("err = %v", err)
	}
}

// TestSecretsNeverShown: tokens and passwords appear in no log line (debug),
// error or summary, including failed sign-ins and refused tokens.
func TestSecretsNeverShown(t *testing.T) {
	d := dbtest.SQLite(t)
	deps, _, logs := testDeps(t, d)
	var texts []string
	air := apisynctest.NewAirtable(t, testToken)
	air.LimitPerSecond = 0
	air.SetRecords(testBase, "T", genRecords(120))
	acfg := apisync.AirtableConfig{Base: testBase, Table: "T", Token: testToken, Target: "t", APIURL: air.URL()}
	for _, tok := range []apisync.Secret{testToken, "patWRONG.secret-value-1234"} {
		acfg.Token = tok
		sum, err := apisync.SyncAirtable(context.Background(), deps, acfg, apisync.RunOptions{})
		texts = append(texts, fmt.Sprint(err), fmt.Sprintf("%+v %#v", acfg, acfg))
		b, _ := json.Marshal(sum)
		texts = append(texts, string(b))
	}
	if !strings.Contains(texts[3], "AUTHENTICATION_REQUIRED") {
		t.Fatalf("wrong token error = %s", texts[3])
	}
	bg := apisynctest.NewBadgr(t, badgrUser, badgrPass)
	bg.SetBadgeClasses(badgrIssuer, genBadges())
	for _, pw := range []apisync.Secret{badgrPass, "wrong-PASSWORD-xyz"} {
		cfg := badgrCfg(bg.URL())
		cfg.Password = pw
		sum, err := apisync.SyncBadgr(context.Background(), deps, cfg, apisync.RunOptions{})
		b, _ := json.Marshal(sum)
		texts = append(texts, fmt.Sprint(err), string(b), fmt.Sprintf("%v %+v", cfg, cfg))
	}
	if !strings.Contains(texts[len(texts)-3], "invalid_grant") {
		t.Fatalf("wrong password error = %s", texts[len(texts)-3])
	}
	all := strings.Join(texts, "\n") + logs.String()
	for _, s := range []string{testToken, "patWRONG.secret-value-1234", badgrPass, "wrong-PASSWORD-xyz"} {
		if strings.Contains(all, s) {
			t.Errorf("secret %q shown in:\n%s", s, all)
		}
	}
}
