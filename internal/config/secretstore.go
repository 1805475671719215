package config

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ghsync/ghsync/internal/awsapi"
)

// defaultStoreTimeout bounds a secret-store lookup when ctx has no deadline.
const defaultStoreTimeout = 30 * time.Second

var (
	paramStore     = awsapi.Service{Name: "Parameter Store", SigningName: "ssm", SDKID: "SSM", Host: "ssm"}
	secretsManager = awsapi.Service{Name: "Secrets Manager", SigningName: "secretsmanager", SDKID: "Secrets Manager", Host: "secretsmanager"}
)

// storeParams are the URL parameters a secret-store reference accepts:
// region, endpoint (an AWS API endpoint URL: a local emulator, a VPC or FIPS
// endpoint), profile (a shared-config profile) and role (an IAM role ARN
// assumed through STS), for the AWS stores; decoder (bytes or string: the
// value is text either way) and wait (a polling interval: a lookup is one
// call, so it has no effect) on every store, as the gocloud.dev runtimevar
// URLs that earlier versions resolved accepted them.
var storeParams = map[string]bool{"region": true, "endpoint": true, "profile": true, "role": true, "decoder": true, "wait": true}

// resolveStore reads the current value of a secret-store reference, trailing
// CR/LF trimmed:
//
//   - awssecretsmanager://NAME: Secrets Manager GetSecretValue of NAME (its
//     SecretString, else its SecretBinary);
//   - awsparamstore://NAME: Parameter Store GetParameter with decryption
//     (String and SecureString); "awsparamstore:///a/b" names "/a/b";
//   - file:///abs/path: the file's content.
//
// AWS credentials, region and endpoints come from the SDK's default chain
// (environment, shared config, SSO, web identity, container or instance
// role), overridden by the reference's parameters (storeParams). Errors name
// the reference without its query, and AWS's error code and message.
func resolveStore(ctx context.Context, ref string) (string, error) {
	desc := Secret{ref: ref}.Describe()
	u, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("read secret %s: invalid URL: %w", desc, err)
	}
	q := u.Query()
	if err := checkStoreParams(q); err != nil {
		return "", fmt.Errorf("read secret %s: %w", desc, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStoreTimeout)
		defer cancel()
	}
	var val []byte
	switch u.Scheme {
	case "file":
		val, err = readStoreFile(u)
	case "awsparamstore":
		val, err = getParameter(ctx, path.Join(u.Host, u.Path), q)
	default:
		val, err = getSecretValue(ctx, path.Join(u.Host, u.Path), q)
	}
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", desc, err)
	}
	return strings.TrimRight(string(val), "\r\n"), nil
}

// checkStoreParams refuses parameters a reference does not accept.
func checkStoreParams(q url.Values) error {
	for k := range q {
		if !storeParams[k] {
			return fmt.Errorf("unknown parameter %q (accepted: region, endpoint, profile, role, decoder, wait)", k)
		}
	}
	switch d := q.Get("decoder"); d {
	case "", "bytes", "string":
	default:
		return fmt.Errorf("decoder=%s is not supported (a secret is text: bytes or string)", d)
	}
	if w := q.Get("wait"); w != "" {
		if _, err := time.ParseDuration(w); err != nil {
			return fmt.Errorf("invalid wait %q: %w", w, err)
		}
	}
	if r := q.Get("role"); r != "" && !strings.HasPrefix(r, "arn:") {
		return fmt.Errorf("role must be an IAM role ARN (arn:…), got %q", r)
	}
	return nil
}

// readStoreFile reads a file:///abs/path reference.
func readStoreFile(u *url.URL) ([]byte, error) {
	if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
		return nil, errors.New("want file:///absolute/path")
	}
	return os.ReadFile(u.Path)
}

// storeClient builds the AWS client of a reference's store.
func storeClient(ctx context.Context, s awsapi.Service, q url.Values) (*awsapi.Client, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if r := q.Get("region"); r != "" {
		opts = append(opts, awsconfig.WithRegion(r))
	}
	if p := q.Get("profile"); p != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(p))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: add ?region=R to the reference or set AWS_REGION")
	}
	if role := q.Get("role"); role != "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), role))
	}
	return awsapi.New(ctx, cfg, s, q.Get("endpoint"))
}

// getParameter is Parameter Store's GetParameter with decryption.
func getParameter(ctx context.Context, name string, q url.Values) ([]byte, error) {
	c, err := storeClient(ctx, paramStore, q)
	if err != nil {
		return nil, err
	}
	var out struct {
		Parameter *struct{ Value *string }
	}
	in := map[string]any{"Name": name, "WithDecryption": true}
	if err := c.CallJSON(ctx, "AmazonSSM.GetParameter", in, &out); err != nil {
		return nil, err
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return nil, fmt.Errorf("Parameter Store returned no value for %q", name)
	}
	return []byte(*out.Parameter.Value), nil
}

// getSecretValue is Secrets Manager's GetSecretValue (current version).
func getSecretValue(ctx context.Context, name string, q url.Values) ([]byte, error) {
	c, err := storeClient(ctx, secretsManager, q)
	if err != nil {
		return nil, err
	}
	var out struct {
		SecretString *string
		SecretBinary []byte // base64 in JSON
	}
	if err := c.CallJSON(ctx, "secretsmanager.GetSecretValue", map[string]string{"SecretId": name}, &out); err != nil {
		return nil, err
	}
	switch {
	case out.SecretString != nil && *out.SecretString != "":
		return []byte(*out.SecretString), nil
	case len(out.SecretBinary) > 0:
		return out.SecretBinary, nil
	}
	return nil, fmt.Errorf("Secrets Manager returned neither SecretString nor SecretBinary for %q", name)
}
