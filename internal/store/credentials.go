package store

import (
	"errors"
	"strings"
)

// CredentialsError reports that a store's SDK found no usable credentials.
// Its message is one sentence naming the store, the credential sources the
// SDK tried and what to set; the SDK's own (long) error is kept as the cause
// (Cause, and errors.Is/As through Unwrap). It matches ErrNoCredentials.
type CredentialsError struct {
	URL   string // the store (redacted URL), filled in by the Bucket
	Cloud string // "AWS", "Google Cloud", "Azure"
	Tried string // the credential sources tried
	Fix   string // what to set
	Cause error
}

func (e *CredentialsError) Error() string {
	where := ""
	if e.URL != "" {
		where = " for " + e.URL
	}
	return "no " + e.Cloud + " credentials" + where + " (tried " + e.Tried + "): " + e.Fix
}

// Unwrap returns ErrNoCredentials and the SDK's error.
func (e *CredentialsError) Unwrap() []error { return []error{ErrNoCredentials, e.Cause} }

// The credential sources each SDK tries, and what users set.
var (
	awsCredentials = CredentialsError{Cloud: "AWS",
		Tried: "AWS_ACCESS_KEY_ID, the shared credentials and config files (AWS_PROFILE), web identity, the ECS and EC2 instance roles",
		Fix:   "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an IAM role"}
	gcpCredentials = CredentialsError{Cloud: "Google Cloud",
		Tried: "GOOGLE_APPLICATION_CREDENTIALS, gcloud's application default credentials file, the GCE metadata server",
		Fix:   "set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or run `gcloud auth application-default login`, or add ?anonymous=true for a public bucket"}
	azureCredentials = CredentialsError{Cloud: "Azure",
		Tried: "AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_CONNECTION_STRING, then AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, workload identity, managed identity, the Azure CLI",
		Fix:   "set AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN, or a service principal's AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or run `az login`"}
)

// credentialsError returns a *CredentialsError when err is an SDK's "no
// credentials found" failure, else nil.
func credentialsError(err error) *CredentialsError {
	var ce *CredentialsError
	if errors.As(err, &ce) {
		return ce
	}
	msg := err.Error()
	var tmpl CredentialsError
	switch {
	case strings.Contains(msg, "failed to refresh cached credentials"),
		strings.Contains(msg, "get identity: get credentials"):
		tmpl = awsCredentials
	case strings.Contains(msg, "DefaultAzureCredential: failed to acquire a token"),
		strings.Contains(msg, "ChainedTokenCredential: failed to acquire a token"):
		tmpl = azureCredentials
	default:
		return nil
	}
	tmpl.Cause = err
	return &tmpl
}

// withURL fills in the store's URL of a credentials error in err.
func withURL(err error, url string) error {
	var ce *CredentialsError
	if errors.As(err, &ce) && ce.URL == "" {
		ce.URL = url
	}
	return err
}
