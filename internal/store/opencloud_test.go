package store

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenGSParams: gs:// takes the parameters gocloud's gcsblob opener
// took (anonymous, access_id, private_key_path, universe_domain, grpc=false)
// and refuses unknown ones and the gRPC API with the parameter's name.
func TestOpenGSParams(t *testing.T) {
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	ctx := context.Background()
	for _, raw := range []string{"gs://b/?access_id=-", "gs://b/?anonymous=1"} {
		b, err := Open(ctx, raw, Options{})
		if err != nil {
			t.Fatalf("Open(%s): %v", raw, err)
		}
		_ = b.Close()
	}
	for raw, want := range map[string]string{
		"gs://b/?grpc=true":                             "grpc=true",
		"gs://b/?zonal=true":                            "zonal=true",
		"gs://b/?nonsense=1":                            `unknown query parameter "nonsense"`,
		"gs://b/?anonymous=1&universe_domain=x":         `"universe_domain" is not used`,
		"gs://b/?private_key_path=/nonexistent/key.pem": "private_key_path",
	} {
		if _, err := Open(ctx, raw, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%s) = %v, want an error about %s", raw, err, want)
		}
	}
}

// TestOpenGSNoCredentials: without Application Default Credentials, gs://
// fails at Open with a *CredentialsError matching ErrNoCredentials.
func TestOpenGSNoCredentials(t *testing.T) {
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	_, err := Open(context.Background(), "gs://b/p", Options{})
	var ce *CredentialsError
	if !errors.As(err, &ce) || !errors.Is(err, ErrNoCredentials) || ce.Cloud != "Google Cloud" || ce.URL != "gs://b/p" {
		t.Fatalf("Open without credentials = %v, want a Google Cloud *CredentialsError", err)
	}
}

// TestAzureServiceURL: azblob://'s service URL and parameters are read as
// gocloud's azureblob opener read them.
func TestAzureServiceURL(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, c := range []struct {
		env  map[string]string
		q    string
		want string
	}{
		{map[string]string{"AZURE_STORAGE_ACCOUNT": "acct"}, "", "https://acct.blob.core.windows.net"},
		{map[string]string{"AZURE_STORAGE_ACCOUNT": "devstoreaccount1"}, "localemu=true&domain=127.0.0.1:10000&protocol=http", "http://127.0.0.1:10000/devstoreaccount1"},
		{map[string]string{"AZURE_STORAGE_ACCOUNT": "acct"}, "domain=localhost:10000&protocol=http", "http://localhost:10000/acct"},
		{map[string]string{"AZURE_STORAGE_ACCOUNT": "acct"}, "cdn=true&domain=cdn.example.com", "https://cdn.example.com"},
		{map[string]string{"AZURE_STORAGE_ACCOUNT": "acct", "AZURE_STORAGE_DOMAIN": "blob.core.chinacloudapi.cn"}, "", "https://acct.blob.core.chinacloudapi.cn"},
		{map[string]string{}, "storage_account=other", "https://other.blob.core.windows.net"},
		{map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=http;AccountName=cs;AccountKey=k"}, "", "http://cs.blob.core.windows.net"},
		{map[string]string{"AZURE_STORAGE_ACCOUNT": "acct", "AZURE_STORAGE_SAS_TOKEN": "sv=1&sig=x"}, "", "https://acct.blob.core.windows.net?sv=1&sig=x"},
	} {
		q, _ := url.ParseQuery(c.q)
		s, err := azureServiceFromEnv(env(c.env)).withParams(q)
		if err != nil {
			t.Fatalf("%v %s: %v", c.env, c.q, err)
		}
		if got, err := s.serviceURL(); err != nil || got != c.want {
			t.Errorf("%v %s: service URL %q, %v; want %q", c.env, c.q, got, err, c.want)
		}
	}
	for q, want := range map[string]string{"protocol=ftp": "invalid protocol", "localemu=maybe": "localemu", "sas_token=x": "unknown query parameter"} {
		vals, _ := url.ParseQuery(q)
		s, err := azureServiceFromEnv(env(map[string]string{"AZURE_STORAGE_ACCOUNT": "a"})).withParams(vals)
		if err == nil {
			_, err = s.serviceURL()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error about %s", q, err, want)
		}
	}
	// With a SAS token the URL may not send it to another service.
	t.Setenv("AZURE_STORAGE_ACCOUNT", "acct")
	t.Setenv("AZURE_STORAGE_KEY", "")
	t.Setenv("AZURE_STORAGE_SAS_TOKEN", "sv=1&sig=x")
	if _, err := Open(context.Background(), "azblob://c/?domain=evil.example.com", Options{}); err == nil || !strings.Contains(err.Error(), "cannot change the service endpoint") {
		t.Errorf("SAS token with another domain: %v", err)
	}
	if b, err := Open(context.Background(), "azblob://c/", Options{}); err != nil {
		t.Errorf("SAS token: %v", err)
	} else {
		_ = b.Close()
	}
}
