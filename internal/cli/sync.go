package cli

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/slogx"
)

// changeFlags are the switches of every verb that changes things.
type changeFlags struct {
	dryRun, json, force, verify bool
	takeOver                    bool // repo sync only (addTakeOver)
}

func (f *changeFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "print what would change; change nothing")
	cmd.Flags().BoolVar(&f.json, "json", false, "print a JSON summary on stdout (logs stay on stderr)")
	cmd.Flags().BoolVar(&f.force, "force", false, "ignore the max_delete guard")
	cmd.Flags().BoolVar(&f.verify, "verify", false, "also list the destination and repair objects changed or deleted behind ghsync's back")
}

// addTakeOver adds --take-over, for the verbs that run repo syncs.
func (f *changeFlags) addTakeOver(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.takeOver, "take-over", false,
		"repo sync: make this source the owner of a destination another source synced into (deletes that source's objects it does not have)")
}

func (a *app) syncCmd() *cobra.Command {
	var cf changeFlags
	var mode, archiveFmt, del, maxDelete, symlinks, manifest string
	var include, exclude, contentType, cacheControl []string
	var concurrency int
	var assets, skipUnstorable, checksum bool
	cmd := &cobra.Command{
		Use:   "sync SRC DST",
		Short: "Mirror a repository ref, release, git remote or folder into a bucket prefix",
		Long: `Mirror SRC into the bucket prefix DST, uploading only what changed since the
last run (recorded in DST/.ghsync/manifest.json).

SRC:  github:OWNER/REPO[@REF]        a branch, tag or commit through the GitHub API
      github:OWNER/REPO@release:latest|TAG   a release's tree (--assets: and its assets)
      https://github.com/OWNER/REPO[/tree/REF]
      git+https://…, git+ssh://…, git+file://…[#REF]   any git remote
      .  or PATH                      a local checkout's HEAD commit (not the working tree)
      dir:PATH  or a plain folder     the folder's files as they are
DST:  s3://BUCKET/PREFIX/?region=R[&endpoint=URL&use_path_style=true]
      gs://BUCKET/PREFIX, azblob://CONTAINER/PREFIX, file://./out, file:///abs, mem://name
      ./DIR, ../DIR, /DIR             a local folder (as file://; like rclone and aws s3)
      PREFIX (no scheme)             a prefix under the config file's storage: URL
                                     (default file://./out)
      A DST that looks like a URL without "//" (s3:/bucket, file:/tmp/x) is an
      error, never a relative prefix. A folder DST may not be inside a folder
      SRC, nor hold SRC. file:// holds one file per object, named as in SRC;
      attributes live in an extended attribute of each file (?metadata=sidecar
      keeps them in side files NAME.attrs instead, which reserves names ending
      in .attrs; see --skip-unstorable).

DST belongs to the first source synced into it (any ref of one repository,
or one folder): another source is refused until it is run with --take-over.

GitHub credentials come from GITHUB_TOKEN, or GITHUB_APP_ID + GITHUB_PRIVATE_KEY
(or the config file's github: section); without them, public repositories only.`,
		Example: `  ghsync sync . file://./out
  ghsync sync github:acme/site@main 's3://acme-site/www/?region=eu-west-1' --exclude '\.map$' --dry-run
  ghsync sync github:acme/templates@release:latest s3://acme-templates/ --assets --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return jobs.Usagef("sync needs SRC and DST (got %d arguments); see ghsync sync --help", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			job := map[string]any{"name": "sync", "kind": jobs.KindRepo, "source": args[0], "dest": localDest(args[1])}
			set := func(k string, v any, changed bool) {
				if changed {
					job[k] = v
				}
			}
			fl := cmd.Flags()
			set("mode", mode, fl.Changed("mode"))
			set("archive_format", archiveFmt, fl.Changed("archive-format"))
			set("delete", del, fl.Changed("delete"))
			set("max_delete", maxDelete, fl.Changed("max-delete"))
			set("symlinks", symlinks, fl.Changed("symlinks"))
			set("manifest", manifest, fl.Changed("manifest"))
			set("include", include, len(include) > 0)
			set("exclude", exclude, len(exclude) > 0)
			set("concurrency", concurrency, fl.Changed("concurrency"))
			set("assets", assets, assets)
			set("skip_unstorable", skipUnstorable, skipUnstorable)
			set("checksum", checksum, checksum)
			for flag, pairs := range map[string][]string{"content_type": contentType, "cache_control": cacheControl} {
				if len(pairs) == 0 {
					continue
				}
				m := yaml.Node{Kind: yaml.MappingNode}
				for _, p := range pairs {
					g, v, ok := strings.Cut(p, "=")
					if !ok {
						return jobs.Usagef("--%s %q: want GLOB=VALUE", strings.ReplaceAll(flag, "_", "-"), p)
					}
					m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: g}, &yaml.Node{Kind: yaml.ScalarNode, Value: v})
				}
				job[flag] = &m
			}
			cfg, err := a.flagsConfig(job, map[string]string{"source": "SRC", "dest": "DST"})
			if err != nil {
				return err
			}
			j, _ := cfg.Job("sync")
			j.Name = "" // an ad-hoc sync has no job name (manifest, logs)
			// A checkout mirrors HEAD, not the working tree: say what is left
			// out, worked out while the sync runs (a large tree takes a while).
			note := make(chan string, 1)
			go func() { note <- worktreeNote(cmd.Context(), args[0]) }()
			err = a.runJob(cmd, cfg, j, cf, true, "")
			if n := <-note; n != "" {
				a.logger.Warn(n)
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&mode, "mode", reposync.ModeFiles, "files: one object per file; archive: one archive object")
	fl.StringVar(&archiveFmt, "archive-format", reposync.ArchiveZip, "archive mode: "+strings.Join(reposync.ArchiveFormats, " or "))
	fl.StringArrayVar(&include, "include", nil, "sync only paths matching this RE2 regexp (repeatable)")
	fl.StringArrayVar(&exclude, "exclude", nil, "skip paths matching this RE2 regexp (repeatable)")
	fl.StringVar(&del, "delete", reposync.DeleteManaged, "none | managed (objects an earlier run wrote) | all (also unknown objects, except excluded paths)")
	fl.StringVar(&maxDelete, "max-delete", strconv.Itoa(reposync.DefaultMaxDeletePercent)+"%", "stop before deleting more than this (count or percentage of managed objects)")
	fl.StringVar(&symlinks, "symlinks", reposync.SymlinksSkip, "skip | follow (targets inside the tree) | object (body is the link target)")
	fl.StringVar(&manifest, "manifest", reposync.DefaultManifestKey, "manifest key under DST")
	fl.StringArrayVar(&contentType, "content-type", nil, "GLOB=TYPE content type override (repeatable)")
	fl.StringArrayVar(&cacheControl, "cache-control", nil, "GLOB=VALUE Cache-Control header (repeatable)")
	fl.IntVar(&concurrency, "concurrency", reposync.DefaultConcurrency, fmt.Sprintf("concurrent uploads (1..%d)", reposync.MaxConcurrency))
	fl.BoolVar(&assets, "assets", false, "releases: also mirror the release assets")
	fl.BoolVar(&checksum, "checksum", false, "dir: sources: hash every file, even one whose size and modification time match the last run's record")
	fl.BoolVar(&skipUnstorable, "skip-unstorable", false, "leave out (and count) files whose names DST cannot hold (azblob://: names with \\; file://?metadata=sidecar: names ending in .attrs) instead of failing")
	cf.add(cmd)
	cf.addTakeOver(cmd)
	return cmd
}

// localDest turns a DST written as a local path (".", "..", or starting
// with "./", "../" or "/") into the file:// URL of that folder, as rclone
// and the aws CLI take such arguments; any other DST is returned as it is
// (a URL, or a prefix under the config's storage).
func localDest(dst string) string {
	if dst != "." && dst != ".." && !strings.HasPrefix(dst, "./") && !strings.HasPrefix(dst, "../") && !strings.HasPrefix(dst, "/") {
		return dst
	}
	abs, err := filepath.Abs(dst)
	if err != nil {
		return dst
	}
	return "file://" + filepath.ToSlash(abs) + "/"
}

// flagsConfig validates a job built from flags with the config loader, so
// flags and files obey the same rules. Credentials, alerts and storage: (onto
// which a relative DST is joined) come from the loaded config (if any) and
// the environment.
//
// names maps the job's keys that came from positional arguments to the
// names users know them by ("source": "SRC"); the other keys are reported
// as the flag of the same name (max_delete → --max-delete).
func (a *app) flagsConfig(job map[string]any, names map[string]string) (*config.Config, error) {
	base, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	data, err := yaml.Marshal(map[string]any{"storage": base.Storage, "jobs": []any{job}})
	if err != nil {
		return nil, err
	}
	cfg, err := jobs.ParseConfig(data, "command line", a.env.Getenv)
	if err != nil {
		return nil, jobs.Usagef("%s", flagError(err, names))
	}
	cfg.GitHub, cfg.Alerts, cfg.File = base.GitHub, base.Alerts, base.File
	return cfg, nil
}

// runJob runs job with progress on a terminal and prints its result: the
// kind's text, or its summary as JSON (Main prints it, with a top-level
// "error" when the run failed). adhoc runs (sync, statuses verbs) send no alerts.
func (a *app) runJob(cmd *cobra.Command, cfg *config.Config, job *config.Job, cf changeFlags, adhoc bool, key string) error {
	p := &progress{out: a.stderr, on: a.env.IsTTY && !cf.json && !a.quiet}
	ro := jobs.RunOptions{DryRun: cf.dryRun, Force: cf.force, Verify: cf.verify, Progress: p.update, NoAlerts: adhoc, Key: key,
		TakeOver: cf.takeOver}
	r := a.runner(cfg)
	if adhoc {
		r.Logger = slogx.DemoteInfo(a.logger) // its INFO lines would repeat the summary printed on stdout
	}
	defer r.Close()
	started := time.Now()
	res, err := r.RunJob(cmd.Context(), job, ro)
	err = asInterrupted(cmd.Context(), err)
	p.finish()
	if !adhoc {
		a.recordRun(cmd.Context(), cfg, job.Name, cf.dryRun, started, res, err)
	}
	switch {
	case res == nil || res.Summary == nil:
	case cf.json:
		a.emitJSON(res.Summary) // Main adds the error, if any
	default:
		res.WriteText(a.env.Stdout)
	}
	return err
}

// flagPos matches the YAML position and field of an error about a job built
// from flags ("command line:4:7: jobs[0].max_delete: …").
var flagPos = regexp.MustCompile(`command line:\d+:\d+: jobs\[0\]\.([a-z_]+)(\[\d+\])?`)

// flagError rewrites config errors about a job built from flags to name the
// argument (names) or flag the user typed.
func flagError(err error, names map[string]string) string {
	return flagPos.ReplaceAllStringFunc(err.Error(), func(m string) string {
		field := flagPos.FindStringSubmatch(m)[1]
		if n, ok := names[field]; ok {
			return n
		}
		return "--" + strings.ReplaceAll(field, "_", "-")
	})
}
