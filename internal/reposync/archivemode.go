package reposync

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// archiveKey returns the object key of archive mode: ArchiveKey, or the
// repository name with .zip / .tar.gz.
func (o *Options) archiveKey(src string) string {
	if o.ArchiveKey != "" {
		return o.KeyPrefix + o.ArchiveKey
	}
	name := src
	if i := strings.IndexAny(name, "@?#"); i > 0 {
		name = name[:i]
	}
	name = strings.TrimSuffix(path.Base(strings.TrimRight(name, "/")), ".git")
	if name == "" || name == "." || name == "/" {
		name = "source"
	}
	ext := ".zip"
	if o.ArchiveFmt == "tar.gz" {
		ext = ".tar.gz"
	}
	return o.KeyPrefix + name + ext
}

// runArchive uploads the whole tree as one archive object, streamed from the
// source (GitHub's tarball/zipball) or packed on the fly, never held whole.
func runArchive(ctx context.Context, o *Options, s *Summary, rev source.Revision, prev manifestState, settings string) error {
	key := o.archiveKey(s.Source)
	it := newItem(key, path.Base(key), nil, &itemAttrs{contentType: ContentType(nil, key)}) // no Content: the archive is streamed
	it.Kind = KindNew
	old := prev.byKey()
	if _, ok := old[key]; ok {
		it.Kind = KindModified
	}
	var deletes []string
	for k := range old {
		if k != key && o.Delete != DeleteNone {
			deletes = append(deletes, k)
		}
	}
	if o.DryRun {
		s.count(it)
		s.Deleted = len(deletes)
		s.addKeys(deletes)
		return nil
	}
	// The archive key is overwritten in place and old keys deleted: record
	// them as unknown first, so a run failing after the overwrite leaves no
	// manifest claiming the old commit's archive (intent.go).
	cond, err := archiveCondition(ctx, o, old[key], key) // fence.go
	if err != nil {
		return err
	}
	prev, err = writeIntent(ctx, o, prev, &Plan{Uploads: []Item{it}, Deletes: deletes}, s.Source)
	if err != nil {
		return err
	}
	body, err := openArchive(ctx, o)
	if err != nil {
		return fmt.Errorf("archive %s: %w", s.Source, err)
	}
	defer body.Close()
	cond.ContentType, cond.Size, cond.Metadata = it.ContentType(), -1, map[string]string{"ghsync-commit": rev.Commit}
	obj, err := o.Bucket.Put(ctx, key, body, cond)
	if errors.Is(err, store.ErrPreconditionFailed) {
		return errKeyChanged(key, err)
	}
	if err != nil {
		return fmt.Errorf("upload archive %s: %w", key, err)
	}
	s.count(it)
	if len(deletes) > 0 {
		if err := o.Bucket.Delete(ctx, deletes); err != nil {
			return fmt.Errorf("delete old archives: %w", err)
		}
		s.Deleted = len(deletes)
		s.addKeys(deletes)
	}
	m := &Manifest{Version: ManifestVersion, Job: o.Job, Owner: o.Owner, Source: s.Source, Ref: rev.Ref, Commit: rev.Commit, ETag: rev.ETag,
		Mode: ModeArchive, Settings: settings, WrittenAt: time.Now().UTC(),
		Objects: []ManifestObject{{Path: it.Path(), Key: key, Blob: rev.Commit, Size: obj.Size, ContentType: it.ContentType(), ETag: obj.ETag}}}
	_, err = writeManifest(ctx, o, prev, m)
	return err
}

// openArchive returns the archive stream: the source's own when it has one
// in the wanted format, else one packed from the tree by a goroutine.
func openArchive(ctx context.Context, o *Options) (io.ReadCloser, error) {
	if as, ok := o.Source.(ArchiveSource); ok {
		return as.Archive(ctx, o.ArchiveFmt)
	}
	entries, err := o.Source.List(ctx)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(packArchive(ctx, o, entries, pw)) }()
	return pr, nil
}

// packArchive writes entries (filtered, submodules skipped) as zip or tar.gz.
func packArchive(ctx context.Context, o *Options, entries []source.Entry, w io.Writer) error {
	var files []source.Entry
	for _, e := range entries {
		if o.Filter.Match(e.Path) && e.Mode != source.ModeSubmodule {
			files = append(files, e)
		}
	}
	if o.ArchiveFmt == "tar.gz" {
		gz := gzip.NewWriter(w)
		tw := tar.NewWriter(gz)
		err := o.Source.Fetch(ctx, files, 1, func(_ context.Context, e source.Entry, r io.Reader) error {
			h := &tar.Header{Name: e.Path, Mode: 0o644, Size: e.Size, Typeflag: tar.TypeReg}
			switch e.Mode {
			case source.ModeExec:
				h.Mode = 0o755
			case source.ModeSymlink:
				h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.Target, 0
				_, err := io.Copy(io.Discard, r)
				if err != nil {
					return err
				}
				return tw.WriteHeader(h)
			}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			_, err := io.Copy(tw, source.Verify(r, e))
			return err
		})
		if err != nil {
			return err
		}
		if err := tw.Close(); err != nil {
			return err
		}
		return gz.Close()
	}
	zw := zip.NewWriter(w)
	err := o.Source.Fetch(ctx, files, 1, func(_ context.Context, e source.Entry, r io.Reader) error {
		h := &zip.FileHeader{Name: e.Path, Method: zip.Deflate}
		switch e.Mode {
		case source.ModeExec:
			h.SetMode(0o755)
		case source.ModeSymlink:
			h.SetMode(0o777 | os.ModeSymlink)
		default:
			h.SetMode(0o644)
		}
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		_, err = io.Copy(fw, source.Verify(r, e))
		return err
	})
	if err != nil {
		return err
	}
	return zw.Close()
}
