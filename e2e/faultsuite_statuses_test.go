//go:build integration

package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/faultproxy"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/statuses"
	"github.com/ghsync/ghsync/internal/store"
)

// TestFaultSuiteStatuses: status snapshots of two branches to S3, with
// faults between ghsync and GitHub's GraphQL API and between ghsync and the
// S3 server, and new commits between runs: every run ends cleanly; after
// each run every branch's object is either the one published before the run,
// byte for byte, or a whole snapshot (valid gzip, a JSON array of commits)
// of the branch's current head; a run that exits 0 published every head;
// one clean run converges.
func TestFaultSuiteStatuses(t *testing.T) {
	rep := newReport(t, "statuses")
	ctx := context.Background()
	seed0 := suiteSeed(t)
	runs := suiteRuns(t, 8)
	work := t.TempDir()
	gh := githubtest.New(t, githubtest.Options{})
	gh.Token = "ghp_faultsuite"
	repo := gh.AddRepo("acme", "app")
	branches := []string{"main", "release/2.0"}
	rng := rand.New(rand.NewPCG(seed0, 3))
	n := 0
	commit := func(branch string) {
		n++
		repo.CommitInfo(branch, githubtest.CommitInfo{Message: fmt.Sprintf("change %d", n), AuthorLogin: "dev",
			Suites: []githubtest.CheckSuite{{Workflow: "CI", Runs: []githubtest.CheckRun{
				{Name: "build", Conclusion: []string{"SUCCESS", "FAILURE"}[rng.IntN(2)]},
				{Name: "test", Conclusion: "SUCCESS"}}}}})
	}
	for i := 0; i < 5; i++ {
		for _, b := range branches {
			commit(b)
		}
	}
	direct := s3test.Bucket(t)
	endpoint := s3test.Endpoint(t)
	b, err := store.Open(ctx, direct, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	run := func(faulty bool, seed uint64) (result, []counter) {
		rates := allFaults(0)
		if faulty {
			rates = allFaults(.2)
		}
		ghp := startProxy(t, strings.TrimSuffix(gh.URL, "/"), faultproxy.Config{Seed: seed, Rates: rates, RetryAfter: "1"})
		s3p := startProxy(t, endpoint, faultproxy.Config{Seed: seed ^ 0x5eed, Rates: rates, RetryAfter: "1",
			ErrorBody: s3ErrorBody, ErrorType: "application/xml",
			Filter: faultproxy.Methods("PUT", "POST")}) // the writes; reads of the previous snapshot are the engine's business
		env := merge(awsEnv(), map[string]string{"GITHUB_TOKEN": gh.Token, "GITHUB_API_URL": ghp.URL + "/"})
		args := []string{"statuses", "acme/app", s3Via(t, direct, s3p.URL), "--history-size", "20", "--json"}
		for _, br := range branches {
			args = append(args, "--branch", br)
		}
		r := runBin(t, rep, faulty, work, env, args...)
		ghp.Close()
		s3p.Close()
		ps := []counter{ghp, s3p}
		rep.addFaults(ps...)
		return r, ps
	}
	published := func() map[string][]byte {
		out := map[string][]byte{}
		for _, br := range branches {
			data, _, err := b.Read(ctx, statuses.Key("acme", "app", br))
			if err == nil {
				out[br] = data
			} else if !errors.Is(err, store.ErrNotExist) {
				t.Fatal(err)
			}
		}
		return out
	}
	check := func(label string, before map[string][]byte, mustBeHead bool) []string {
		var fails []string
		after := published()
		for _, br := range branches {
			data, ok := after[br]
			head := repo.Head(br)
			if !ok {
				if mustBeHead || before[br] != nil {
					fails = append(fails, fmt.Sprintf("%s: branch %s has no snapshot", label, br))
				}
				continue
			}
			if bytes.Equal(data, before[br]) && !mustBeHead {
				continue // the previous snapshot, intact
			}
			first, count, err := decodeSnapshot(data)
			switch {
			case err != nil:
				fails = append(fails, fmt.Sprintf("%s: branch %s: the stored snapshot (%d bytes) is corrupt: %v", label, br, len(data), err))
			case first != head:
				fails = append(fails, fmt.Sprintf("%s: branch %s: the snapshot changed but starts at %.12s, the head is %.12s", label, br, first, head))
			case count == 0 || count > 20:
				fails = append(fails, fmt.Sprintf("%s: branch %s: the snapshot holds %d commits", label, br, count))
			}
		}
		return fails
	}
	for i := 0; i < runs; i++ {
		seed := seed0 + uint64(i)
		for _, br := range branches {
			if rng.IntN(2) == 0 {
				commit(br)
			}
		}
		before := published()
		r, ps := run(true, seed)
		fails := check(fmt.Sprintf("run %d (seed %d, exit %d)", i, seed, r.code), before, r.code == 0)
		for _, f := range fails {
			rep.fail(t, "%s", f)
		}
		if len(fails) > 0 {
			logFaults(t, seed, ps...)
		}
	}
	if r, _ := run(false, 0); r.code != 0 {
		rep.fail(t, "clean run exited %d:\n%s", r.code, tail(r.stderr))
	}
	for _, f := range check("after the clean run", nil, true) {
		rep.fail(t, "%s", f)
	}
}

// decodeSnapshot checks a stored v5 snapshot (gzip, or already decoded by
// the transport) and returns its first commit SHA and its length.
func decodeSnapshot(data []byte) (string, int, error) {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return "", 0, err
		}
		if data, err = io.ReadAll(zr); err != nil {
			return "", 0, fmt.Errorf("gzip: %w", err)
		}
	}
	var commits []struct {
		SHA string `json:"sha"`
	}
	if err := json.Unmarshal(data, &commits); err != nil {
		return "", 0, fmt.Errorf("not a JSON array of commits: %w", err)
	}
	if len(commits) == 0 {
		return "", 0, nil
	}
	return commits[0].SHA, len(commits), nil
}
