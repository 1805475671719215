// Package webutil holds small HTTP helpers shared by ghsync's servers.
package webutil

import (
	"encoding/json"
	"net/http"
)

// WriteJSON answers with status code and v as indented JSON
// (Content-Type: application/json). Encoding errors are not reported: the
// status line is already sent.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
