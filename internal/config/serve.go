package config

// Serve configures `ghsync serve`'s HTTP surface (the listen address is its
// --addr flag).
type Serve struct {
	// Auth decides who may read the server.
	Auth ServeAuth `yaml:"auth"`
}

// ServeAuth guards the read API (/api/…), the web UI and /metrics of
// `ghsync serve`. The webhook receivers (checked by their signatures),
// /healthz and /readyz are always open.
type ServeAuth struct {
	// Token is required on the guarded routes ("Authorization: Bearer
	// TOKEN", or the UI's sign-in form) whenever it is set, and must be set
	// when serve listens on an address that is not loopback-only (unless
	// InsecurePublicRead). A secret: ${ENV}, file:/path or a secret-store URL.
	Token Secret `yaml:"token"`
	// InsecurePublicRead serves the guarded routes without a token on any
	// address: for a private network behind its own authentication. Logged
	// as a warning at every start.
	InsecurePublicRead bool `yaml:"insecure_public_read"`
}

// validateServe checks the serve section.
func validateServe(s *Serve, p *problems) {
	if !s.Auth.Token.IsZero() && s.Auth.InsecurePublicRead {
		p.field("serve.auth.insecure_public_read", "set either serve.auth.token or insecure_public_read: true, not both")
	}
}
