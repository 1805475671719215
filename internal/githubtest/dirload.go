package githubtest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// CommitDir commits the whole directory tree at dir (a full snapshot) onto
// branch and returns the commit SHA. Executable files get mode 100755,
// symlinks 120000 (content = link text); ".git" directories and other
// non-regular files are skipped. Blobs are kept in memory, deduplicated by
// SHA across the server.
func (r *Repo) CommitDir(branch, dir string) string {
	r.s.t.Helper()
	flat, blobs, err := loadDir(dir)
	if err != nil {
		r.s.t.Fatalf("githubtest: CommitDir: %v", err)
	}
	sha, err := r.commitFlat(branch, flat, blobs, "Import "+filepath.Base(dir))
	if err != nil {
		r.s.t.Fatalf("githubtest: CommitDir %s: %v", dir, err)
	}
	return sha
}

type dirItem struct {
	rel  string
	abs  string
	mode fs.FileMode
}

// loadDir reads dir with a small worker pool and hashes every file.
func loadDir(dir string) ([]flatFile, map[string][]byte, error) {
	var items []dirItem
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != dir {
				return filepath.SkipDir
			}
			return nil
		}
		t := d.Type()
		if t&fs.ModeSymlink == 0 && !t.IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("rel %s: %w", p, err)
		}
		mode := t
		if t.IsRegular() {
			info, err := d.Info()
			if err != nil {
				return fmt.Errorf("stat %s: %w", p, err)
			}
			mode = info.Mode()
		}
		items = append(items, dirItem{rel: filepath.ToSlash(rel), abs: p, mode: mode})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	flat := make([]flatFile, len(items))
	contents := make([][]byte, len(items))
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0)+2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				it := items[i]
				var b []byte
				var err error
				mode := "100644"
				switch {
				case it.mode&fs.ModeSymlink != 0:
					var target string
					target, err = os.Readlink(it.abs)
					b, mode = []byte(target), "120000"
				default:
					b, err = os.ReadFile(it.abs)
					if it.mode&0o111 != 0 {
						mode = "100755"
					}
				}
				if err != nil {
					errs[i] = fmt.Errorf("read %s: %w", it.abs, err)
					continue
				}
				contents[i] = b
				flat[i] = flatFile{path: it.rel, mode: mode, sha: GitBlobSHA(b), size: int64(len(b))}
			}
		}()
	}
	for i := range items {
		next <- i
	}
	close(next)
	wg.Wait()
	blobs := make(map[string][]byte, len(items))
	for i := range items {
		if errs[i] != nil {
			return nil, nil, errs[i]
		}
		if _, ok := blobs[flat[i].sha]; !ok {
			blobs[flat[i].sha] = contents[i]
		}
	}
	return flat, blobs, nil
}
