package store

import (
	"maps"
	"sync"
)

// Request kinds counted in Stats.Requests.
const (
	KindGet           = "get"            // one per object read (GET)
	KindHead          = "head"           // one per attribute lookup (HEAD), including ones Put makes on drivers that do not return the ETag
	KindPut           = "put"            // one per object written (a multipart upload counts once)
	KindList          = "list"           // one per listing page
	KindDelete        = "delete"         // one per delete request (a DeleteObjects batch counts once)
	KindMultipartPart = "multipart_part" // one per UploadPart request
	KindCopy          = "copy"           // one per copy made by the store itself (Bucket.Copy); present in Stats only once counted
)

// Stats is a snapshot of the requests a Bucket made.
type Stats struct {
	// Requests counts requests by kind (see the Kind constants).
	Requests map[string]int
	// BytesUploaded counts body bytes of completed uploads.
	BytesUploaded int64
}

// counters accumulates Stats; safe for concurrent use.
type counters struct {
	mu    sync.Mutex
	req   map[string]int
	bytes int64
}

func (c *counters) add(kind string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.req == nil {
		c.req = make(map[string]int)
	}
	c.req[kind] += n
}

func (c *counters) uploaded(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bytes += n
}

// Stats returns a snapshot of the request counts so far. The keys "get",
// "head", "put", "list", "delete" and "multipart_part" are always present.
func (b *Bucket) Stats() Stats {
	b.stats.mu.Lock()
	defer b.stats.mu.Unlock()
	req := map[string]int{KindGet: 0, KindHead: 0, KindPut: 0, KindList: 0, KindDelete: 0, KindMultipartPart: 0}
	maps.Copy(req, b.stats.req)
	return Stats{Requests: req, BytesUploaded: b.stats.bytes}
}

// BytesUploaded returns the body bytes of completed uploads so far (as in
// Stats, without copying the request counts).
func (b *Bucket) BytesUploaded() int64 {
	b.stats.mu.Lock()
	defer b.stats.mu.Unlock()
	return b.stats.bytes
}
