package db

// Redact returns a database URL with its password replaced, for messages
// and logs.
func Redact(rawURL string) string { return redact(rawURL) }
