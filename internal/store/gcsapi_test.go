package store

import "testing"

// gcsEndpoint picks the JSON API's base URL as the generated storage/v1
// client did: the universe_domain parameter, then GOOGLE_CLOUD_UNIVERSE_DOMAIN,
// then googleapis.com; the mTLS host only when asked for in that universe.
func TestGCSEndpoint(t *testing.T) {
	for _, c := range []struct {
		param string
		env   map[string]string
		want  string
	}{
		{"", nil, "https://storage.googleapis.com/storage/v1/"},
		{"example.test", nil, "https://storage.example.test/storage/v1/"},
		{"", map[string]string{"GOOGLE_CLOUD_UNIVERSE_DOMAIN": "env.test"}, "https://storage.env.test/storage/v1/"},
		{"param.test", map[string]string{"GOOGLE_CLOUD_UNIVERSE_DOMAIN": "env.test"}, "https://storage.param.test/storage/v1/"},
		{"", map[string]string{"GOOGLE_API_USE_MTLS_ENDPOINT": "always"}, "https://storage.mtls.googleapis.com/storage/v1/"},
		{"other.test", map[string]string{"GOOGLE_API_USE_MTLS_ENDPOINT": "always"}, "https://storage.other.test/storage/v1/"},
	} {
		if got := gcsEndpoint(c.param, func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("gcsEndpoint(%q, %v) = %s, want %s", c.param, c.env, got, c.want)
		}
	}
}
