package github

import (
	"io"
	"net/http"
	"sync"
)

// etagCache remembers small GET responses by URL and Accept so the next
// request can be conditional: a 304 costs no rate limit and the cached body
// is served instead. A Client has one set of credentials (and one
// installation per owner), so the key needs no auth identity beyond that.
type etagCache struct {
	mu      sync.Mutex
	entries map[string]etagEntry
	order   []string // insertion order, for eviction
}

type etagEntry struct {
	etag string
	body []byte
}

const (
	etagCacheEntries = 256
	etagCacheMaxBody = 1 << 20
)

func (c *etagCache) get(key string) (etagEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	return e, ok
}

func (c *etagCache) put(key, etag string, body []byte) {
	if etag == "" || len(body) > etagCacheMaxBody {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]etagEntry{}
	}
	if _, ok := c.entries[key]; !ok {
		c.order = append(c.order, key)
	}
	c.entries[key] = etagEntry{etag: etag, body: body}
	for len(c.order) > etagCacheEntries {
		delete(c.entries, c.order[0])
		c.order = c.order[1:]
	}
}

// getCached sends a GET for the repository sub-path, conditional on a
// cached ETag, and returns the body of a 200 or the cached body on 304.
// Other statuses are returned as the response (body unread) for the caller
// to turn into an error.
func (r *RepoClient) getCached(req func(hdr http.Header) (*http.Response, error), key string) ([]byte, *http.Response, error) {
	body, _, _, resp, err := r.getConditional(req, key)
	return body, resp, err
}

// getConditional is getCached that also returns the validator of the body
// and whether GitHub answered 304 (the body is the cached one).
func (r *RepoClient) getConditional(req func(hdr http.Header) (*http.Response, error), key string) (body []byte, etag string, notModified bool, resp *http.Response, err error) {
	hdr := http.Header{}
	cached, ok := r.c.etags.get(key)
	if ok {
		hdr.Set("If-None-Match", cached.etag)
	}
	resp, err = req(hdr)
	if err != nil {
		return nil, "", false, nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && ok:
		resp.Body.Close()
		return cached.body, cached.etag, true, nil, nil
	case resp.StatusCode == http.StatusOK:
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, "", false, nil, err
		}
		etag := resp.Header.Get("ETag")
		r.c.etags.put(key, etag, body)
		return body, etag, false, nil, nil
	}
	return nil, "", false, resp, nil
}
