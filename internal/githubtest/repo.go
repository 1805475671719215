package githubtest

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Repo is a repository of the fake. Its methods are test helpers: they call
// t.Fatal on misuse and must be called from the test goroutine.
type Repo struct {
	s *Server
	// Owner and Name are as given to AddRepo.
	Owner, Name string

	id            int64
	ownerID       int64
	created       time.Time
	defaultBranch string
	private       bool
	archived      bool              // see orgrepos.go
	topics        []string          // see orgrepos.go
	branches      map[string]string // name -> commit SHA
	tags          map[string]string // name -> commit SHA
	commitSet     map[string]bool
	releases      []*release
}

// release is a GitHub release of a Repo.
type release struct {
	id         int64
	tag        string
	name       string
	draft      bool
	prerelease bool
	created    time.Time
	assets     []*assetRec
}

// assetRec is one stored release asset.
type assetRec struct {
	id          int64
	repo        *Repo
	name        string
	contentType string
	content     []byte
	created     time.Time
}

// Asset is a release asset to attach with AddRelease.
type Asset struct {
	Name string
	// ContentType defaults to "application/octet-stream".
	ContentType string
	Content     []byte
}

// ReleaseSpec describes a release for AddReleaseSpec.
type ReleaseSpec struct {
	// Tag is the tag name; if the tag does not exist it is created at the
	// default branch head (as GitHub does when publishing a release).
	Tag        string
	Name       string
	Draft      bool
	Prerelease bool
	Assets     []Asset
}

// epoch is the fake's fixed origin of time for commit and release dates.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func commitTime(seq int64) time.Time { return epoch.Add(time.Duration(seq) * time.Minute) }

// AddRepo creates owner/name with default branch "main" and no commits,
// and returns it. Adding an existing repository returns the existing one.
func (s *Server) AddRepo(owner, name string) *Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(owner + "/" + name)
	if r := s.repos[key]; r != nil {
		return r
	}
	r := &Repo{
		s: s, Owner: owner, Name: name,
		id: s.id(), ownerID: s.ownerIDLocked(owner), created: epoch,
		defaultBranch: "main",
		branches:      map[string]string{},
		tags:          map[string]string{},
		commitSet:     map[string]bool{},
	}
	s.repos[key] = r
	return r
}

// ownerIDLocked returns a stable account ID for login.
func (s *Server) ownerIDLocked(login string) int64 {
	for _, r := range s.repos {
		if strings.EqualFold(r.Owner, login) {
			return r.ownerID
		}
	}
	for _, in := range s.installations {
		if strings.EqualFold(in.account, login) {
			return in.accountID
		}
	}
	return s.id()
}

func (s *Server) repo(owner, name string) *Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repos[strings.ToLower(owner+"/"+name)]
}

// SetDefaultBranch changes the default branch (it need not exist yet).
func (r *Repo) SetDefaultBranch(branch string) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.defaultBranch = branch
}

// SetPrivate marks the repository private (only visible with credentials).
func (r *Repo) SetPrivate(private bool) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.private = private
}

// Head returns the commit SHA branch points to, or "" if it does not exist.
func (r *Repo) Head(branch string) string {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.branches[branch]
}

// Commit replaces branch's tree with files (path -> content, mode 100644)
// in a new commit whose parent is the branch's current head, creating the
// branch if needed. It returns the commit SHA.
func (r *Repo) Commit(branch string, files map[string]string) string {
	r.s.t.Helper()
	list := make([]File, 0, len(files))
	for p, c := range files {
		list = append(list, File{Path: p, Content: []byte(c)})
	}
	return r.CommitFiles(branch, list)
}

// CommitFiles is Commit with explicit modes (see File). It returns the
// commit SHA.
func (r *Repo) CommitFiles(branch string, files []File) string {
	r.s.t.Helper()
	flat := make([]flatFile, 0, len(files))
	blobs := make(map[string][]byte, len(files))
	for _, f := range files {
		p, err := cleanRepoPath(f.Path)
		if err != nil {
			r.s.t.Fatalf("githubtest: CommitFiles: %v", err)
		}
		mode, err := normaliseMode(f.Mode)
		if err != nil {
			r.s.t.Fatalf("githubtest: CommitFiles %s: %v", f.Path, err)
		}
		ff := flatFile{path: p, mode: mode}
		if mode == "160000" {
			ff.sha = strings.TrimSpace(string(f.Content))
			if !isHexSHA(ff.sha) {
				r.s.t.Fatalf("githubtest: CommitFiles %s: submodule content must be a 40-hex commit SHA", f.Path)
			}
		} else {
			ff.sha = GitBlobSHA(f.Content)
			ff.size = int64(len(f.Content))
			blobs[ff.sha] = f.Content
		}
		flat = append(flat, ff)
	}
	sha, err := r.commitFlat(branch, flat, blobs, "Update "+branch)
	if err != nil {
		r.s.t.Fatalf("githubtest: CommitFiles: %v", err)
	}
	return sha
}

// commitFlat stores blobs and trees and adds a commit on branch.
func (r *Repo) commitFlat(branch string, flat []flatFile, blobs map[string][]byte, message string) (string, error) {
	sort.Slice(flat, func(i, j int) bool { return flat[i].path < flat[j].path })
	var trees []*gitTree
	root, err := buildTrees(flat, func(t *gitTree) { trees = append(trees, t) })
	if err != nil {
		return "", fmt.Errorf("build tree: %w", err)
	}
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for sha, b := range blobs {
		if _, ok := s.blobs[sha]; !ok {
			s.blobs[sha] = b
		}
	}
	for _, t := range trees {
		s.trees[t.sha] = t
	}
	s.seq++
	c := &gitCommit{tree: root, message: message, seq: s.seq}
	if head := r.branches[branch]; head != "" {
		c.parents = []string{head}
	}
	c.sha = gitObjectSHA("commit", commitBody(c))
	s.commits[c.sha] = c
	r.commitSet[c.sha] = true
	r.branches[branch] = c.sha
	return c.sha, nil
}

// Tag points the lightweight tag name at commit sha (moving it if it exists).
func (r *Repo) Tag(name, sha string) {
	r.s.t.Helper()
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if !r.commitSet[sha] {
		r.s.t.Fatalf("githubtest: Tag %s: commit %s is not in %s/%s", name, sha, r.Owner, r.Name)
	}
	r.tags[name] = sha
}

// AddRelease publishes a release for tag with assets and returns its ID.
func (r *Repo) AddRelease(tag string, assets ...Asset) int64 {
	r.s.t.Helper()
	return r.AddReleaseSpec(ReleaseSpec{Tag: tag, Name: tag, Assets: assets})
}

// AddReleaseSpec adds a release described by spec and returns its ID.
// Releases are created one fake minute apart, so the last one added is the
// newest; "latest" is the newest non-draft, non-prerelease release.
func (r *Repo) AddReleaseSpec(spec ReleaseSpec) int64 {
	r.s.t.Helper()
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if spec.Tag == "" {
		s.t.Fatalf("githubtest: AddReleaseSpec: empty tag")
	}
	if _, ok := r.tags[spec.Tag]; !ok {
		head := r.branches[r.defaultBranch]
		if head == "" {
			s.t.Fatalf("githubtest: AddReleaseSpec %s: tag does not exist and %s has no commits", spec.Tag, r.defaultBranch)
		}
		r.tags[spec.Tag] = head
	}
	s.seq++
	rel := &release{id: s.id(), tag: spec.Tag, name: spec.Name, draft: spec.Draft, prerelease: spec.Prerelease, created: commitTime(s.seq)}
	for _, a := range spec.Assets {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		rec := &assetRec{id: s.id(), repo: r, name: a.Name, contentType: ct, content: append([]byte(nil), a.Content...), created: rel.created}
		rel.assets = append(rel.assets, rec)
		s.assets[rec.id] = rec
	}
	r.releases = append(r.releases, rel)
	return rel.id
}

func isHexSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	return isHex(s)
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// resolveLocked resolves ref (branch, tag, heads/X, tags/X, refs/..., full
// or abbreviated SHA, "HEAD") to a commit SHA. Caller holds s.mu.
// ambiguous is true for an abbreviated SHA matching several commits.
func (r *Repo) resolveLocked(ref string) (sha string, ambiguous bool) {
	if ref == "HEAD" {
		return r.branches[r.defaultBranch], false
	}
	ref = strings.TrimPrefix(ref, "refs/")
	if b, ok := strings.CutPrefix(ref, "heads/"); ok {
		return r.branches[b], false
	}
	if t, ok := strings.CutPrefix(ref, "tags/"); ok {
		return r.tags[t], false
	}
	if sha := r.branches[ref]; sha != "" {
		return sha, false
	}
	if sha := r.tags[ref]; sha != "" {
		return sha, false
	}
	low := strings.ToLower(ref)
	if len(low) >= 4 && len(low) <= 40 && isHex(low) {
		if r.commitSet[low] {
			return low, false
		}
		var found string
		for c := range r.commitSet {
			if strings.HasPrefix(c, low) {
				if found != "" {
					return "", true
				}
				found = c
			}
		}
		return found, false
	}
	return "", false
}
