package store

// Reading and listing a file:// bucket: opening a key's file, stat with
// the recorded attributes (or the content MD5), paged listing by walking
// the folder.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ghsync/ghsync/internal/osfile"
)

// openFile opens the regular file of key.
func (d *fileDriver) openKey(key string) (*os.File, os.FileInfo, error) {
	f, err := osfile.Open(d.path(key))
	if err != nil {
		return nil, nil, notExist(err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, nil, fmt.Errorf("%w: %s is not a regular file", ErrNotExist, d.path(key))
	}
	return f, fi, nil
}

// notExist marks a missing file (or a missing directory on its path) as ErrNotExist.
func notExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
		return fmt.Errorf("%w: %w", ErrNotExist, err)
	}
	return err
}

func (d *fileDriver) read(_ context.Context, key string) ([]byte, string, error) {
	d.b.stats.add(KindGet, 1)
	f, fi, err := d.openKey(key)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRead+1))
	if err != nil {
		return nil, "", err
	}
	return data, synthETag(fi.ModTime(), fi.Size()), nil
}

func (d *fileDriver) open(_ context.Context, key string) (io.ReadCloser, Object, error) {
	d.b.stats.add(KindGet, 1)
	f, fi, err := d.openKey(key)
	if err != nil {
		return nil, Object{}, err
	}
	a, _, _ := d.attrsOf(f, d.path(key))
	return f, Object{Key: key, Size: fi.Size(), ETag: synthETag(fi.ModTime(), fi.Size()), ModTime: fi.ModTime(),
		ContentType: a.ContentType, CacheControl: a.CacheControl, ContentEncoding: a.ContentEncoding,
		Metadata: a.Metadata}, nil
}

func (d *fileDriver) stat(_ context.Context, key string) (Object, error) {
	d.b.stats.add(KindHead, 1)
	f, fi, err := d.openKey(key)
	if err != nil {
		return Object{}, err
	}
	defer f.Close()
	a, sum, recorded := d.attrsOf(f, d.path(key))
	if d.attrs && !recorded && fi.Size() <= maxStatMD5 {
		// Nothing says what this file holds (no blob metadata, no MD5): its
		// MD5, read here, lets a run whose manifest was lost adopt it
		// instead of writing it again (reposync compares it with the source).
		if sum, err = d.contentMD5(f, fi.Size()); err != nil {
			return Object{}, fmt.Errorf("md5 of %s: %w", d.path(key), err)
		}
	}
	md := a.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return Object{Key: key, Size: fi.Size(), ETag: synthETag(fi.ModTime(), fi.Size()), MD5: sum, Metadata: md,
		ContentType: a.ContentType, CacheControl: a.CacheControl, ContentEncoding: a.ContentEncoding,
		ModTime: fi.ModTime()}, nil
}

// listPage walks the directory under prefix once (on the first page),
// sorts the keys and hands them out listPage at a time.
func (d *fileDriver) listPage(_ context.Context, prefix, token string) ([]Object, string, error) {
	d.b.stats.add(KindList, 1)
	var all []Object
	if token == "" {
		var err error
		if all, err = d.walk(prefix); err != nil {
			return nil, "", err
		}
	} else {
		d.pagesMu.Lock()
		all = d.pages[token]
		delete(d.pages, token)
		d.pagesMu.Unlock()
		if all == nil {
			return nil, "", fmt.Errorf("list: unknown page token %q", token)
		}
	}
	if len(all) <= listPage {
		return all, "", nil
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	next := hex.EncodeToString(rnd[:])
	d.pagesMu.Lock()
	if d.pages == nil {
		d.pages = map[string][]Object{}
	}
	d.pages[next] = all[listPage:]
	d.pagesMu.Unlock()
	return all[:listPage], next, nil
}

// walk lists the regular files whose keys start with prefix, in key order,
// leaving out temporary files and side files of the earlier format.
func (d *fileDriver) walk(prefix string) ([]Object, error) {
	start := d.dir
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = d.path(prefix[:i])
	}
	var out []Object
	var attrsNames []int // indexes in out of names ending in .attrs
	err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == start && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if e.IsDir() || !e.Type().IsRegular() || fileTemp.MatchString(e.Name()) {
			return nil
		}
		rel, err := filepath.Rel(d.dir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.sidecar {
			var ok bool
			if key, ok = sideKey(key); !ok {
				return nil
			}
		}
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed meanwhile
		} else if err != nil {
			return err
		}
		if !d.sidecar && strings.HasSuffix(key, attrsExt) {
			attrsNames = append(attrsNames, len(out))
		}
		out = append(out, Object{Key: key, Size: fi.Size(), ETag: synthETag(fi.ModTime(), fi.Size()), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil && !errors.Is(err, fs.SkipAll) {
		return nil, err
	}
	if len(attrsNames) > 0 {
		out = d.dropSideFiles(out, attrsNames)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// dropSideFiles removes from objs the NAME.attrs entries that are side
// files of an object NAME (fileblob records), not objects of their own.
func (d *fileDriver) dropSideFiles(objs []Object, idx []int) []Object {
	side := map[int]bool{}
	for _, i := range idx {
		name := d.path(strings.TrimSuffix(objs[i].Key, attrsExt))
		if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
			if _, ok := legacy(name); ok {
				side[i] = true
			}
		}
	}
	out := objs[:0:0]
	for i, o := range objs {
		if !side[i] {
			out = append(out, o)
		}
	}
	return out
}
