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
	cred := ""
	if c := b.CredentialSource(ctx, env.Getenv); c != "" {
		cred = "; " + c
	}
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
		if cerr := b.CreateBucket(ctx, env.Getenv); cerr != nil {
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
