package lambda

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/store"
)

// EnvTaskRoot is the directory Lambda unpacks the function's package into.
const EnvTaskRoot = "LAMBDA_TASK_ROOT"

// LoadConfig finds the configuration of a Lambda function, in this order:
//
//  1. GHSYNC_CONFIG naming a store URL (s3://BUCKET/KEY.yaml, gs://…,
//     file:///abs/ghsync.yaml, mem://…): the object is read and parsed;
//     GHSYNC_CONFIG naming a plain path: that file;
//  2. GHSYNC_CONFIG_YAML: the whole YAML document;
//  3. ghsync.yaml in LAMBDA_TASK_ROOT (next to bootstrap in the package), then
//     next to the executable (exeDir, "" to skip);
//  4. the embedded defaults plus the legacy environment variables
//     (app_id, private_key, bucket, …), see config.Load.
//
// The returned source says which one was used (never a secret).
func LoadConfig(ctx context.Context, getenv func(string) string, exeDir string) (cfg *config.Config, source string, err error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if ref := strings.TrimSpace(getenv(config.EnvConfig)); ref != "" {
		if strings.Contains(ref, "://") {
			data, err := readURL(ctx, ref)
			if err != nil {
				return nil, "", err
			}
			name := store.Redact(ref)
			cfg, err := jobs.ParseConfig(data, name, getenv)
			return cfg, name, err
		}
		cfg, err := jobs.LoadConfig(ref, getenv)
		return cfg, ref, err
	}
	if getenv(config.EnvConfigYAML) != "" {
		cfg, err := jobs.LoadConfig("", getenv)
		return cfg, config.EnvConfigYAML, err
	}
	for _, dir := range []string{getenv(EnvTaskRoot), exeDir} {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, config.DefaultFile)
		switch _, err := os.Stat(p); {
		case err == nil:
			cfg, err := jobs.LoadConfig(p, getenv)
			return cfg, p, err
		case !errors.Is(err, fs.ErrNotExist):
			return nil, "", fmt.Errorf("stat %s: %w", p, err)
		}
	}
	cfg, err = jobs.LoadConfig("", getenv)
	return cfg, "embedded defaults", err
}

// readURL reads the object a store URL names: the URL's last path element is
// the key, the rest (with the query) opens the bucket.
func readURL(ctx context.Context, ref string) ([]byte, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot parse %s", config.EnvConfig, store.Redact(ref))
	}
	dir, key := path.Split(u.Path)
	if key == "" {
		return nil, fmt.Errorf("%s=%s: name the config object, e.g. s3://bucket/ghsync.yaml", config.EnvConfig, store.Redact(ref))
	}
	if u.Scheme == "file" {
		// file:///abs/dir/ghsync.yaml: the folder-bucket form takes the directory as host+path.
		data, err := os.ReadFile(u.Path)
		if err != nil {
			return nil, fmt.Errorf("read config %s: %w", u.Path, err)
		}
		return data, nil
	}
	u.Path = dir
	b, err := store.Open(ctx, u.String(), store.Options{})
	if err != nil {
		return nil, fmt.Errorf("open config location: %w", err)
	}
	defer b.Close()
	data, _, err := b.Read(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", store.Redact(ref), err)
	}
	return data, nil
}
