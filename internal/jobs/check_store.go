package jobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/store"
)

// probePrefix is where the probe objects of `ghsync check` are written
// under a store's prefix (ghsync's own folder, which no sync manages).
const probePrefix = ".ghsync/check-probe-"

// checkStore checks one store a job uses: the URL opens (credentials
// found), the bucket exists (created with o.CreateBucket where the scheme
// can), it lists, and, for read-write stores, a probe object can be written
// and is removed at once. A file:// folder that does not exist yet is
// reported, not created (the first run creates it).
func checkStore(ctx context.Context, env *Env, job *config.Job, s StoreUse, o CheckOptions) Check {
	key := s.Key
	if key == "" {
		key = "store"
	}
	name := "store " + key
	red := store.Redact(s.URL)
	fix := fmt.Sprintf("set %s: of job %s to a store it can reach", key, job.Name)
	if strings.Contains(s.URL, "{") {
		return checkOK(name, red+": a template, filled per row at run time (not checked)")
	}
	loc, err := store.Locate(s.URL)
	if err != nil {
		return checkFail(name, red+": "+err.Error(), fix)
	}
	if loc.Space == "file" {
		if _, err := os.Stat(loc.Dir); errors.Is(err, os.ErrNotExist) {
			parent := existingParent(loc.Dir)
			if err := writableDir(parent); err != nil {
				return checkFail(name, fmt.Sprintf("%s: folder %s does not exist and %s is not writable: %v", red, loc.Dir, parent, err), fix)
			}
			return checkOK(name, fmt.Sprintf("%s: folder %s does not exist yet; the first run creates it", red, loc.Dir))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	b, err := store.Open(ctx, s.URL, store.Options{Logger: env.Logger})
	if err != nil {
		return storeFailure(name, red, err, fix)
	}
	defer b.Close()
	cred := credentialSource(ctx, b, env.Getenv)
	listed := func() error {
		stop := errors.New("stop")
		err := b.List(ctx, func(store.Object) error { return stop })
		if errors.Is(err, stop) {
			return nil
		}
		return err
	}
	err = listed()
	created := ""
	if err != nil && bucketMissing(err) {
		bucket := bucketOfSpace(loc.Space)
		if !o.CreateBucket {
			return checkFail(name, fmt.Sprintf("%s: bucket %q does not exist%s", red, bucket, cred),
				fmt.Sprintf("create bucket %q (ghsync check --create-bucket does, for s3, gs and azblob), or set %s: of job %s to an existing one", bucket, key, job.Name))
		}
		if cerr := createBucket(ctx, b, bucket, env.Getenv); cerr != nil {
			return checkFail(name, fmt.Sprintf("%s: bucket %q does not exist and could not be created: %v", red, bucket, cerr),
				fmt.Sprintf("create bucket %q yourself, or set %s: of job %s to an existing one", bucket, key, job.Name))
		}
		created = fmt.Sprintf("; bucket %q created", bucket)
		err = listed()
	}
	if err != nil {
		return storeFailure(name, red, err, fix)
	}
	if s.Access != AccessReadWrite {
		return checkOK(name, red+": readable"+cred+created)
	}
	madeDir := ""
	if loc.Space == "file" {
		if d := filepath.Join(loc.Dir, filepath.FromSlash(path.Dir(probePrefix))); !exists(d) {
			madeDir = d
		}
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	probe := probePrefix + hex.EncodeToString(rnd[:])
	if _, err := b.Put(ctx, probe, bytes.NewReader([]byte("ghsync check\n")), store.PutOptions{ContentType: "text/plain", Size: 13}); err != nil {
		return storeFailure(name, red+": readable but not writable (probe object "+probe+")", err,
			"grant write access to "+red+" to the credentials ghsync uses")
	}
	if err := b.Delete(context.WithoutCancel(ctx), []string{probe}); err != nil {
		return checkFail(name, fmt.Sprintf("%s: writable, but the probe object %s could not be removed: %v", red, probe, err),
			"grant delete access to "+red+" (and remove "+probe+")")
	}
	if madeDir != "" {
		_ = os.Remove(madeDir) // the folder the probe's key created, if still empty
	}
	return checkOK(name, red+": readable and writable (probe object written and removed)"+cred+created)
}

// storeFailure is a failed store check: missing credentials say which
// sources were tried and what to set.
func storeFailure(name, where string, err error, fix string) Check {
	var ce *store.CredentialsError
	if errors.As(err, &ce) {
		return checkFail(name, where+": no "+ce.Cloud+" credentials (tried "+ce.Tried+")", ce.Fix)
	}
	return checkFail(name, where+": "+err.Error(), fix)
}

// bucketMissing reports whether err says the bucket or container itself
// does not exist (as opposed to an object).
func bucketMissing(err error) bool {
	m := err.Error()
	for _, s := range []string{"NoSuchBucket", "bucket doesn't exist", "bucket does not exist", "ContainerNotFound", "The specified container does not exist"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// bucketOfSpace returns the bucket of a Location.Space ("s3://b@host" → "b").
func bucketOfSpace(space string) string {
	_, rest, _ := strings.Cut(space, "://")
	if i := strings.IndexAny(rest, "@&"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// createBucket creates bucket through the store's SDK client.
func createBucket(ctx context.Context, b *store.Bucket, bucket string, getenv func(string) string) error {
	raw := b.Raw()
	var s3c *s3.Client
	var gcs *storage.Client
	var cc *container.Client
	switch {
	case raw.As(&s3c):
		in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
		if r := s3c.Options().Region; r != "" && r != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(r)}
		}
		_, err := s3c.CreateBucket(ctx, in)
		return err
	case raw.As(&gcs):
		project := getenv("GOOGLE_CLOUD_PROJECT")
		if project == "" {
			if getenv("STORAGE_EMULATOR_HOST") == "" {
				return errors.New("a Google Cloud project is needed to create a bucket: set GOOGLE_CLOUD_PROJECT")
			}
			project = "ghsync"
		}
		return gcs.Bucket(bucket).Create(ctx, project, nil)
	case raw.As(&cc):
		_, err := cc.Create(ctx, nil)
		return err
	}
	return fmt.Errorf("the %s scheme cannot create buckets", b.Kind())
}

// credentialSource says which credentials a store uses and where they were
// found (", AWS credentials from EnvConfigCredentials"), or "".
func credentialSource(ctx context.Context, b *store.Bucket, getenv func(string) string) string {
	raw := b.Raw()
	var s3c *s3.Client
	var gcs *storage.Client
	var cc *container.Client
	switch {
	case raw.As(&s3c):
		p := s3c.Options().Credentials
		if p == nil {
			return "; anonymous"
		}
		c, err := p.Retrieve(ctx)
		if err != nil {
			return ""
		}
		src := c.Source
		if src == "" {
			src = "the SDK's default chain"
		}
		return "; AWS credentials from " + src
	case raw.As(&gcs):
		switch {
		case getenv("STORAGE_EMULATOR_HOST") != "":
			return "; no credentials (emulator at STORAGE_EMULATOR_HOST=" + getenv("STORAGE_EMULATOR_HOST") + ")"
		case getenv("GOOGLE_APPLICATION_CREDENTIALS") != "":
			return "; Google credentials from GOOGLE_APPLICATION_CREDENTIALS"
		}
		return "; Google application default credentials"
	case raw.As(&cc):
		for _, k := range []string{"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_CLIENT_SECRET"} {
			if getenv(k) != "" {
				return "; Azure credentials from " + k
			}
		}
		return "; Azure default credential chain"
	}
	return ""
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// existingParent returns the nearest folder of dir that exists.
func existingParent(dir string) string {
	for p := dir; ; {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		up := filepath.Dir(p)
		if up == p {
			return p
		}
		p = up
	}
}

// writableDir reports whether files can be created in dir (by the
// permission bits; nothing is written).
func writableDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o222 == 0 {
		return fmt.Errorf("%s is read-only", dir)
	}
	return nil
}
