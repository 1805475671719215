package store

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseURL feeds arbitrary destination URLs through the parser and the
// per-scheme parameter checks that run before any client is built (gs://
// options, azblob:// service URL). None may panic, and no error or redacted
// form may echo a password or a secret-valued parameter of the input.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"s3://bucket/prefix?region=eu-west-1&endpoint=http://127.0.0.1:9000&path_style=true",
		"s3://user:hunter2secret@bucket/p",
		"gs://bucket/a/b?anonymous=true&universe_domain=example.com",
		"gs://bucket?grpc=true", "gs://bucket?access_id=-&private_key_path=/nonexistent",
		"azblob://container/p?localemu=true&domain=127.0.0.1:10000&protocol=http",
		"azblob://c?cdn=true&domain=cdn.example.net&storage_account=acct&sig=hunter2secret",
		"file://./out?metadata=skip", "file:///abs/dir?metadata=sidecar", "mem://name",
		"s3://b?kmskeyid=hunter2secret", "s3://b#frag", "::", "s3:opaque", "%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		raw, secrets := withMarker(raw)
		tg, err := parseURL(raw)
		if err != nil {
			noSecret(t, "parse error", err.Error(), secrets)
			return
		}
		noSecret(t, "redacted URL", tg.redacted, secrets)
		switch tg.kind {
		case "gs":
			if _, err := gcsOptions(tg); err != nil {
				noSecret(t, "gs:// options error", err.Error(), secrets)
			}
		case "azblob":
			none := func(string) string { return "" }
			s, err := azureServiceFromEnv(none).withParams(tg.query)
			if err != nil {
				noSecret(t, "azblob:// parameters error", err.Error(), secrets)
				return
			}
			if _, err := s.serviceURL(); err != nil {
				noSecret(t, "azblob:// service URL error", err.Error(), secrets)
			}
		}
	})
}

// secretMarker stands in for every secret of a fuzzed URL: a value no error
// text holds by chance.
const secretMarker = "Zq9xSECRETx7Kp"

// withMarker returns raw (when it parses) with its password and the values of
// parameters that may be secret replaced by secretMarker, and the secrets to
// look for (none when nothing was replaced).
func withMarker(raw string) (string, []string) {
	u, err := url.Parse(raw)
	if err != nil {
		return raw, nil
	}
	changed := false
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), secretMarker)
		changed = true
	}
	q := u.Query()
	for k, vs := range q {
		if safeParams[k] || notSecret[k] {
			continue
		}
		for i := range vs {
			vs[i] = secretMarker
			changed = true
		}
	}
	if !changed {
		return raw, nil
	}
	u.RawQuery = q.Encode()
	return u.String(), []string{secretMarker}
}

// notSecret are parameters that redacted URLs hide but whose values are not
// secrets, so an error may name them (a key file's path, a service account).
var notSecret = map[string]bool{"private_key_path": true, "access_id": true}

func noSecret(t *testing.T, what, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Fatalf("%s %q holds the secret value %q", what, text, s)
		}
	}
}
