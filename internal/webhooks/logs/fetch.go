package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/store"
)

type result int

const (
	resultStored result = iota
	resultRetry
	resultFailed
	resultCancelled
)

// errNotReady marks a 404: the log is not available yet.
var errNotReady = errors.New("log not available yet (404)")

// errGone marks a 410: the log expired or was deleted; no retry helps.
var errGone = errors.New("log is gone (410: expired or deleted)")

// LogKey is the object key of a job's log under DEST.
func LogKey(repo string, jobID int64) string {
	return "log/" + repo + "/" + strconv.FormatInt(jobID, 10)
}

// ClassificationKey is the object key of a job's classification under DEST.
func ClassificationKey(repo string, jobID int64) string {
	return LogKey(repo, jobID) + ".classification.json"
}

// process downloads, stores and classifies one claimed job and records the
// outcome.
func (d *Downloader) process(ctx context.Context, q queued) result {
	logBytes, classified, matchJSON, rule, err := d.fetchStoreClassify(ctx, q.Job)
	if ctx.Err() != nil {
		d.release(q)
		return resultCancelled
	}
	o := outcome{q: q, stored: true, logBytes: logBytes, classified: classified, matchJSON: matchJSON, rule: rule}
	if err != nil {
		final, state := errors.Is(err, errGone), ""
		if final {
			state = "gone"
		}
		o = d.newFailure(q, err, final, state)
	}
	if rerr := d.record(ctx, o); rerr != nil {
		d.log.Error("log download outcome could not be recorded; it resumes when its lease expires", "job", q.Job.Key(), "err", err, "record_err", rerr)
		return resultRetry
	}
	switch {
	case o.stored:
		d.m.downloads.WithLabelValues("stored").Inc()
		d.m.bytes.Add(float64(logBytes))
		if rule != "" {
			d.m.classified.WithLabelValues("matched").Inc()
		} else {
			d.m.classified.WithLabelValues("no_match").Inc()
		}
		d.log.Info("job log stored", "job", q.Job.Key(), "bytes", logBytes, "rule", rule)
		return resultStored
	case o.retry:
		d.m.downloads.WithLabelValues("retry").Inc()
		d.log.Info("job log not stored yet, will retry", "job", q.Job.Key(), "attempt", q.attempts+1, "err", err)
		return resultRetry
	}
	d.m.downloads.WithLabelValues("failed").Inc()
	d.log.Error("job log download failed for good", "job", q.Job.Key(), "attempts", q.attempts+1, "state", o.state, "err", err)
	return resultFailed
}

// fetchStoreClassify streams the log into the bucket (gzip) while keeping its
// tail, then classifies the tail and stores the classification object.
func (d *Downloader) fetchStoreClassify(ctx context.Context, j Job) (logBytes, classified int64, matchJSON []byte, rule string, err error) {
	body, err := d.open(ctx, j)
	if err != nil {
		return 0, 0, nil, "", err
	}
	defer body.Close()

	tail := &tailBuf{max: d.o.MaxClassifyBytes}
	pr, pw := io.Pipe()
	copied := make(chan error, 1)
	var n int64
	go func() {
		c := &compressor{ctx: ctx, gate: d.gate, tail: tail, dst: pw}
		c.zw = d.gz.get(&c.buf)
		defer d.gz.put(c.zw)
		var cerr error
		n, cerr = io.Copy(c, body)
		if cerr != nil {
			cerr = fmt.Errorf("read log body: %w", stripURL(cerr))
		} else if cerr = c.Close(); cerr != nil {
			cerr = fmt.Errorf("gzip log: %w", cerr)
		}
		pw.CloseWithError(cerr)
		copied <- cerr
	}()
	_, perr := d.o.Bucket.Put(ctx, LogKey(j.Repo, j.ID), pr, store.PutOptions{
		ContentType:     "text/plain; charset=utf-8",
		ContentEncoding: "gzip",
		Size:            -1,
		Metadata:        map[string]string{"conclusion": j.Conclusion, "job-id": strconv.FormatInt(j.ID, 10), "repo": j.Repo},
	})
	pr.CloseWithError(errors.New("store stopped reading"))
	if cerr := <-copied; cerr != nil {
		return 0, 0, nil, "", cerr
	}
	if perr != nil {
		return 0, 0, nil, "", fmt.Errorf("store log %s: %w", LogKey(j.Repo, j.ID), perr)
	}

	if err := d.gate.acquire(ctx); err != nil {
		return 0, 0, nil, "", err
	}
	text, first := tail.tail()
	m := d.o.Classifier.ClassifyFrom(text, first)
	d.gate.release()
	matchJSON, err = json.Marshal(m) // null when nothing matched
	if err != nil {
		return 0, 0, nil, "", fmt.Errorf("encode classification: %w", err)
	}
	if m != nil {
		rule = m.Rule
	}
	if _, err := d.o.Bucket.Put(ctx, ClassificationKey(j.Repo, j.ID), strings.NewReader(string(matchJSON)+"\n"),
		store.PutOptions{ContentType: "application/json", Size: int64(len(matchJSON) + 1)}); err != nil {
		return 0, 0, nil, "", fmt.Errorf("store classification %s: %w", ClassificationKey(j.Repo, j.ID), err)
	}
	return n, int64(len(text)), matchJSON, rule, nil
}

// open asks the API for the log and follows its redirect with the plain
// blob client, so the GitHub token never leaves the API host.
func (d *Downloader) open(ctx context.Context, j Job) (io.ReadCloser, error) {
	owner, repo, ok := strings.Cut(j.Repo, "/")
	if !ok {
		return nil, fmt.Errorf("job %s: repository %q is not OWNER/REPO", j.Key(), j.Repo)
	}
	hc, err := d.o.GitHub.HTTPClient(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("GitHub client for %s: %w", owner, err)
	}
	api := *hc
	api.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	route := "GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs"
	u := d.o.GitHub.BaseURL() + "repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/actions/jobs/" + strconv.FormatInt(j.ID, 10) + "/logs"
	req, err := http.NewRequestWithContext(github.WithRoute(ctx, route), http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", j.Key(), err)
	}
	resp, err := api.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET logs of job %s: %w", j.Key(), stripURL(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("job %s: %w", j.Key(), errNotReady)
	case resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("job %s: %w", j.Key(), errGone)
	case resp.StatusCode/100 != 3 || resp.Header.Get("Location") == "":
		return nil, fmt.Errorf("GET logs of job %s: unexpected %s (want a redirect to the log)", j.Key(), resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("job %s: bad log Location: %w", j.Key(), stripURL(err))
	}
	breq, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", j.Key(), stripURL(err))
	}
	bresp, err := d.o.BlobClient.Do(breq)
	if err != nil {
		return nil, fmt.Errorf("download log of job %s from %s: %w", j.Key(), loc.Host, stripURL(err))
	}
	if bresp.StatusCode != http.StatusOK {
		bresp.Body.Close()
		if bresp.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("job %s (blob storage): %w", j.Key(), errNotReady)
		}
		return nil, fmt.Errorf("download log of job %s from %s: %s", j.Key(), loc.Host, bresp.Status)
	}
	return bresp.Body, nil
}

// stripURL drops the URL from an *url.Error: a log URL carries a signature.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
