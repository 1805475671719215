package serve

import (
	"bytes"
	"html/template"
	"net/http"
)

// loginData is what the sign-in form shows.
type loginData struct {
	Next   string // where to return after signing in (a path on this server)
	Failed bool   // the last attempt's token was wrong
}

// loginTemplate is the sign-in form: self-contained (inline style, no
// script), so that nothing else needs to be public for it.
var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · ghsync</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}
main{max-width:26rem;margin:12vh auto;padding:2rem;background:#fff;border:1px solid #d0d7de;border-radius:8px}
h1{margin-top:0;font-size:1.4rem}
label{display:block;font-weight:600;margin:1rem 0 .3rem}
input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #8c959f;border-radius:4px}
button{margin-top:1rem;padding:.5rem 1.2rem;font:inherit;border:0;border-radius:4px;background:#0969da;color:#fff;cursor:pointer}
.error{color:#a40e26;font-weight:600}
code{font-size:.9em}
</style>
</head>
<body>
<main>
<h1>Sign in to ghsync</h1>
<p>This server's web UI, read API and metrics need its access token (<code>serve.auth.token</code>).</p>
{{if .Failed}}<p class="error" role="alert">That token is not correct.</p>{{end}}
<form method="post" action="/ui/login">
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{{.Next}}">
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
`))

// renderLogin writes the sign-in form with status code.
func renderLogin(w http.ResponseWriter, code int, d loginData) {
	var buf bytes.Buffer
	if err := loginTemplate.Execute(&buf, d); err != nil {
		http.Error(w, "internal error rendering the sign-in page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}
