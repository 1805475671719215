package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"
)

// memStore is one named in-process bucket: objects by full key.
type memStore struct {
	mu   sync.Mutex
	objs map[string]*memObj
	// last is the newest modification time given, so that every write
	// gets a later one (ETags are modification time and size).
	last time.Time
}

type memObj struct {
	data []byte
	obj  Object // attributes; Key is the full key
}

// memDriver serves mem://: objects held in memory, keys verbatim, with the
// MD5 of their content (reported by Put, Stat and List, as memblob did). Every
// operation holds the store's mutex, so conditional writes are atomic.
type memDriver struct {
	b *Bucket
	s *memStore
}

// now returns a modification time later than any given before. The caller holds s.mu.
func (s *memStore) now() time.Time {
	t := time.Now()
	if !t.After(s.last) {
		t = s.last.Add(time.Nanosecond)
	}
	s.last = t
	return t
}

func (d *memDriver) put(_ context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	h, err := d.b.bufs.readHead(r, d.b.part, o.Size)
	if err != nil {
		return Object{}, fmt.Errorf("read body: %w", err)
	}
	var data []byte
	if h.whole {
		data = bytes.Clone(h.data)
	} else {
		var buf bytes.Buffer
		buf.Write(h.data)
		if _, err := d.b.bufs.copyBody(&buf, h.rest); err != nil {
			h.release()
			return Object{}, fmt.Errorf("write body: %w", err)
		}
		data = buf.Bytes()
	}
	if o.ContentType == "" {
		o.ContentType = sniffType(data)
	}
	h.release()
	md := maps.Clone(o.Metadata)
	if md == nil {
		md = map[string]string{}
	}
	d.b.stats.add(KindPut, 1)
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	cur := d.s.objs[key]
	var etag string
	if cur != nil {
		etag = cur.obj.ETag
	}
	if err := conditionHolds(o, cur != nil, etag); err != nil {
		return Object{}, err
	}
	mt := d.s.now()
	sum := md5.Sum(data)
	obj := Object{Key: key, Size: int64(len(data)), ETag: synthETag(mt, int64(len(data))), MD5: sum[:], Metadata: md,
		ContentType: o.ContentType, CacheControl: o.CacheControl, ContentEncoding: o.ContentEncoding, ModTime: mt}
	d.s.objs[key] = &memObj{data: data, obj: obj}
	d.b.stats.uploaded(obj.Size)
	return copyObj(obj), nil
}

// copyObj returns o with its own metadata map and MD5.
func copyObj(o Object) Object {
	o.Metadata = maps.Clone(o.Metadata)
	o.MD5 = bytes.Clone(o.MD5)
	return o
}

func (d *memDriver) get(key string) (*memObj, error) {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	m := d.s.objs[key]
	if m == nil {
		return nil, fmt.Errorf("%w: mem object %q", ErrNotExist, key)
	}
	return m, nil
}

func (d *memDriver) read(_ context.Context, key string) ([]byte, string, error) {
	d.b.stats.add(KindGet, 1)
	m, err := d.get(key)
	if err != nil {
		return nil, "", err
	}
	return bytes.Clone(m.data[:min(len(m.data), maxRead+1)]), m.obj.ETag, nil
}

func (d *memDriver) open(_ context.Context, key string) (io.ReadCloser, Object, error) {
	d.b.stats.add(KindGet, 1)
	m, err := d.get(key)
	if err != nil {
		return nil, Object{}, err
	}
	// Objects are never changed in place (a write replaces them), so the
	// reader may read m.data without the lock.
	return io.NopCloser(bytes.NewReader(m.data)), copyObj(m.obj), nil
}

func (d *memDriver) stat(_ context.Context, key string) (Object, error) {
	d.b.stats.add(KindHead, 1)
	m, err := d.get(key)
	if err != nil {
		return Object{}, err
	}
	return copyObj(m.obj), nil
}

// listPage returns the objects after token (the last key of the previous page).
func (d *memDriver) listPage(_ context.Context, prefix, token string) ([]Object, string, error) {
	d.b.stats.add(KindList, 1)
	d.s.mu.Lock()
	keys := make([]string, 0, len(d.s.objs))
	for k := range d.s.objs {
		if strings.HasPrefix(k, prefix) && (token == "" || k > token) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	next := ""
	if len(keys) > listPage {
		keys = keys[:listPage]
		next = keys[len(keys)-1]
	}
	out := make([]Object, len(keys))
	for i, k := range keys {
		o := d.s.objs[k].obj
		out[i] = Object{Key: k, Size: o.Size, ETag: o.ETag, MD5: o.MD5, ModTime: o.ModTime}
	}
	d.s.mu.Unlock()
	return out, next, nil
}

func (d *memDriver) delete(_ context.Context, keys []string) error {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	for _, k := range keys {
		d.b.stats.add(KindDelete, 1)
		delete(d.s.objs, k)
	}
	return nil
}

func (d *memDriver) copy(_ context.Context, dst, src string) error {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	m := d.s.objs[src]
	if m == nil {
		return fmt.Errorf("%w: mem object %q", ErrNotExist, src)
	}
	mt := d.s.now()
	obj := copyObj(m.obj)
	obj.Key, obj.ModTime, obj.ETag = dst, mt, synthETag(mt, obj.Size)
	d.s.objs[dst] = &memObj{data: m.data, obj: obj}
	return nil
}
