package store

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// azureService is where an azblob:// URL points: the service URL's parts,
// from the environment and the URL's parameters, as gocloud's azureblob
// opener read them (so URLs and environments that worked keep working).
type azureService struct {
	account, sas, domain, protocol string
	cdn, localEmu                  bool
}

// azureParams are the query parameters azblob:// accepts.
var azureParams = map[string]bool{"domain": true, "protocol": true, "cdn": true, "localemu": true, "storage_account": true}

// azureServiceFromEnv reads AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_SAS_TOKEN,
// AZURE_STORAGE_DOMAIN, AZURE_STORAGE_PROTOCOL, AZURE_STORAGE_IS_CDN,
// AZURE_STORAGE_IS_LOCAL_EMULATOR, and the account name and protocol of
// AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGEBLOB_CONNECTIONSTRING)
// when those are not set.
func azureServiceFromEnv(getenv func(string) string) azureService {
	s := azureService{account: getenv("AZURE_STORAGE_ACCOUNT"), sas: getenv("AZURE_STORAGE_SAS_TOKEN"),
		domain: getenv("AZURE_STORAGE_DOMAIN"), protocol: getenv("AZURE_STORAGE_PROTOCOL")}
	s.cdn, _ = strconv.ParseBool(getenv("AZURE_STORAGE_IS_CDN"))
	s.localEmu, _ = strconv.ParseBool(getenv("AZURE_STORAGE_IS_LOCAL_EMULATOR"))
	for part := range strings.SplitSeq(azureConnString(getenv), ";") {
		k, v, ok := strings.Cut(part, "=")
		switch {
		case !ok:
		case k == "AccountName" && s.account == "":
			s.account = v
		case k == "DefaultEndpointsProtocol" && s.protocol == "":
			s.protocol = v
		}
	}
	return s
}

func azureConnString(getenv func(string) string) string {
	if c := getenv("AZURE_STORAGE_CONNECTION_STRING"); c != "" {
		return c
	}
	return getenv("AZURE_STORAGEBLOB_CONNECTIONSTRING")
}

// withParams returns s with the URL's parameters applied.
func (s azureService) withParams(q url.Values) (azureService, error) {
	err := eachParam(q, azureParams, "azblob:// takes domain, protocol, cdn, localemu, storage_account and prefix", func(k, v string) error {
		switch k {
		case "domain":
			s.domain = v
		case "protocol":
			s.protocol = v
		case "storage_account":
			s.account = v
		case "cdn", "localemu":
			on, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			if k == "cdn" {
				s.cdn = on
			} else {
				s.localEmu = on
			}
		}
		return nil
	})
	return s, err
}

// serviceURL is "<protocol>://<account>.<domain>" (domain
// blob.core.windows.net, protocol https by default); for a local emulator
// (localemu, or a domain starting with 127.0.0.1 or localhost)
// "<protocol>://<domain>/<account>"; for a CDN "<protocol>://<domain>".
// A SAS token is appended as the query.
func (s azureService) serviceURL() (string, error) {
	if s.account == "" {
		return "", errors.New("no storage account: set AZURE_STORAGE_ACCOUNT (or storage_account= in the URL)")
	}
	domain, protocol := s.domain, s.protocol
	if domain == "" {
		domain = "blob.core.windows.net"
	}
	switch protocol {
	case "":
		protocol = "https"
	case "http", "https":
	default:
		return "", fmt.Errorf("invalid protocol %q (want http or https)", protocol)
	}
	var u string
	switch {
	case strings.HasPrefix(domain, "127.0.0.1") || strings.HasPrefix(domain, "localhost") || s.localEmu:
		u = protocol + "://" + domain + "/" + s.account
	case s.cdn:
		u = protocol + "://" + domain
	default:
		u = protocol + "://" + s.account + "." + domain
	}
	if s.sas != "" {
		u += "?" + s.sas
	}
	return u, nil
}

// azureContainer opens the container client for an azblob:// target, with
// the first credential the environment gives: AZURE_STORAGE_ACCOUNT with
// AZURE_STORAGE_KEY (shared key), AZURE_STORAGE_SAS_TOKEN (in the URL),
// AZURE_STORAGE_CONNECTION_STRING, else azidentity's DefaultAzureCredential
// (service principal environment, workload identity, managed identity, the
// Azure CLI). With a SAS token the URL's parameters may not move the service
// to another origin (the token would be sent there).
func azureContainer(t target, getenv func(string) string) (*container.Client, error) {
	env := azureServiceFromEnv(getenv)
	s, err := env.withParams(t.query)
	if err != nil {
		return nil, err
	}
	svc, err := s.serviceURL()
	if err != nil {
		return nil, err
	}
	if env.sas != "" {
		def, err := env.serviceURL()
		if err != nil {
			return nil, err
		}
		a, _ := url.Parse(def)
		b, _ := url.Parse(svc)
		if a == nil || b == nil || !strings.EqualFold(a.Scheme, b.Scheme) || !strings.EqualFold(a.Host, b.Host) {
			return nil, errors.New("the URL cannot change the service endpoint when AZURE_STORAGE_SAS_TOKEN is set")
		}
	}
	cu, err := url.Parse(svc)
	if err != nil {
		return nil, fmt.Errorf("service URL: %w", err)
	}
	cu = cu.JoinPath(t.bucket)
	key := getenv("AZURE_STORAGE_KEY")
	switch {
	case env.account != "" && key != "":
		cred, err := azblob.NewSharedKeyCredential(env.account, key)
		if err != nil {
			return nil, fmt.Errorf("AZURE_STORAGE_KEY: %w", err)
		}
		return container.NewClientWithSharedKeyCredential(cu.String(), cred, nil)
	case env.sas != "":
		return container.NewClientWithNoCredential(cu.String(), nil)
	case azureConnString(getenv) != "":
		return container.NewClientFromConnectionString(azureConnString(getenv), t.bucket, nil)
	}
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		ce := azureCredentials
		ce.URL, ce.Cause = t.redacted, err
		return nil, &ce
	}
	return container.NewClient(cu.String(), cred, nil)
}

// eachParam calls fn with each query parameter of q and its value, refusing
// parameters not in allowed (the error says what the scheme takes: usage)
// and parameters given more than once.
func eachParam(q url.Values, allowed map[string]bool, usage string, fn func(k, v string) error) error {
	for k, vs := range q {
		if !allowed[k] {
			return fmt.Errorf("unknown query parameter %q (%s)", k, usage)
		}
		if len(vs) != 1 {
			return fmt.Errorf("query parameter %s is given %d times", k, len(vs))
		}
		if err := fn(k, vs[0]); err != nil {
			return err
		}
	}
	return nil
}
