package cli

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/serve"
	"github.com/ghsync/ghsync/internal/webhooks/classify"
)

// classifyCmd is `ghsync classify LOGFILE… [--rules FILE] [--context N] [--json]`:
// the webhook log classifier on local files; with --stats, its accuracy
// over a corpus of logs.
func (a *app) classifyCmd() *cobra.Command {
	var rules string
	var contextLines int
	var asJSON, stats bool
	var catchAll []string
	cmd := &cobra.Command{
		Use:   "classify LOGFILE...",
		Short: "Classify CI job logs (plain or gzip) with the webhook log classifier",
		Long: `Run the classifier that ghsync serve applies to downloaded job logs on local
files (plain or gzip-compressed, detected from the content). The rules file is
PyTorch's log classifier format (ruleset.toml): an ordered list of [[rule]]
with name and pattern, first rule highest priority.

The rules and context default to the configuration's webhooks.logs.rules and
webhooks.logs.context (the file of --config, $GHSYNC_CONFIG or ./ghsync.yaml,
as for every verb; a relative rules path is taken from the working directory,
as ghsync serve takes it); --rules and --context override them. Without a
configuration file, or without webhooks.logs.rules, the built-in ruleset is
used (--rules "" forces it). See docs/webhooks.md.

For each file: the winning rule, the matching line and its number, the
captures and up to --context '+' lines before it; with --json one object per
file on its own line: {"file": …, "match": {"rule", "line", "line_num",
"captures", "context"}}, "match": null when no rule matched.

With --stats, the arguments are a corpus (files, and directories read
recursively) and the output is the classifier's accuracy over it: how many
logs each rule won and their share, how many fell to a catch-all rule (the
ruleset's catch_all names, or --catch-all) and how many no rule matched; as a
table, or with --json as one JSON object {"logs", "matched", "catch_all",
"unmatched", the three shares, "rules": [{"rule", "catch_all", "logs",
"share"}]} listing every rule, those that won nothing included.

Exit status: 0 when every file was classified (matched or not), 1 when some
file could not be read, 2 for a bad configuration, rules file or flags.`,
		Example: "  ghsync classify job-1234.log\n  ghsync classify --rules ci/ruleset.toml --json logs/*.gz\n  ghsync classify --stats --json logs/",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return jobs.Usagef("classify needs at least one LOGFILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var flagRules *string
			if cmd.Flags().Changed("rules") {
				flagRules = &rules
			}
			var flagContext *int
			if cmd.Flags().Changed("context") {
				flagContext = &contextLines
			}
			c, rs, err := a.classifier(flagRules, flagContext)
			if err != nil {
				return err
			}
			if stats {
				var names []string
				if cmd.Flags().Changed("catch-all") {
					names = catchAll
					if err := checkCatchAll(rs, names); err != nil {
						return err
					}
				}
				return a.classifyStats(c, classify.NewStatsCounter(rs, names), args, asJSON)
			}
			if cmd.Flags().Changed("catch-all") {
				return jobs.Usagef("--catch-all needs --stats")
			}
			failed := 0
			for _, f := range args {
				m, err := c.ClassifyFile(f)
				if err != nil {
					failed++
					fmt.Fprintf(a.env.Stderr, "ghsync: classify %v\n", err)
					continue
				}
				if err := classify.WriteResult(a.env.Stdout, f, m, asJSON); err != nil {
					return err
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d file(s) could not be classified", failed, len(args))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&rules, "rules", "", "rules file in PyTorch's ruleset.toml format (default: the config's webhooks.logs.rules, else the built-in ruleset)")
	// The default is shown in the text, not as the flag's value: it is the
	// config's when one sets it (only a flag the user changed is read).
	cmd.Flags().IntVar(&contextLines, "context", 0, fmt.Sprintf("'+' (shell trace) lines kept before the match; 0: none (default: the config's webhooks.logs.context, else %d)", classify.DefaultContext))
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per file, one per line (with --stats: one JSON object)")
	cmd.Flags().BoolVar(&stats, "stats", false, "report the share of logs each rule won, the share that fell to catch-all rules and the share unmatched, over the files and directories given")
	cmd.Flags().StringArrayVar(&catchAll, "catch-all", nil, "with --stats: a rule name counted as catch-all (repeatable; default: the ruleset's catch_all)")
	return cmd
}

// checkCatchAll refuses a --catch-all name that no rule of rs has.
func checkCatchAll(rs *classify.Ruleset, names []string) error {
	for _, n := range names {
		if !slices.ContainsFunc(rs.Rules, func(r classify.Rule) bool { return r.Name == n }) {
			return jobs.Usagef("--catch-all %q: no rule of %s is named so", n, rs.Source)
		}
	}
	return nil
}

// classifyStats classifies every file of the corpus (directories walked
// recursively, in name order) into sc and writes the figures. Unreadable
// files are reported on stderr, left out of the figures, and fail the run.
func (a *app) classifyStats(c *classify.Classifier, sc *classify.StatsCounter, corpus []string, asJSON bool) error {
	var files []string
	failed := 0
	for _, p := range corpus {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			failed++
			fmt.Fprintf(a.env.Stderr, "ghsync: classify --stats: %v\n", err)
		}
	}
	sort.Strings(files)
	for _, f := range files {
		m, err := c.ClassifyFile(f)
		if err != nil {
			failed++
			fmt.Fprintf(a.env.Stderr, "ghsync: classify %v\n", err)
			continue
		}
		sc.AddMatch(m)
	}
	if err := classify.WriteStats(a.env.Stdout, sc.Stats(), asJSON); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d path(s) of the corpus could not be classified", failed)
	}
	return nil
}

// classifier builds the classifier `ghsync classify` runs: the rules file
// and context lines of the flags when given (non-nil; --rules "" is the
// built-in ruleset whatever the configuration says), else those of the
// configuration's webhooks.logs section, loaded as every verb loads it
// (--config, $GHSYNC_CONFIG, ./ghsync.yaml; without a config file the
// built-in ruleset and 12 lines). A relative webhooks.logs.rules is taken
// from the working directory, as serve takes it. A configuration or rules
// file that fails to load is a usage error (exit 2) naming the file.
func (a *app) classifier(rules *string, contextLines *int) (*classify.Classifier, *classify.Ruleset, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	opts := classify.ContextLines(cfg.Webhooks.Logs.Context)
	if contextLines != nil {
		if *contextLines < 0 {
			return nil, nil, jobs.Usagef("--context must be 0 or more (got %d)", *contextLines)
		}
		opts = classify.ContextLines(*contextLines)
	}
	if rules == nil {
		rs, err := serve.LogsRuleset(cfg)
		if err != nil {
			return nil, nil, jobs.Usage(err)
		}
		c, err := classify.New(rs, opts)
		if err != nil {
			return nil, nil, jobs.Usage(cfg.FieldError("webhooks.logs.rules", "%v", err))
		}
		return c, rs, nil
	}
	if *rules == "" {
		rs := classify.DefaultRuleset()
		c, err := classify.New(rs, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("built-in ruleset: %w", err)
		}
		return c, rs, nil
	}
	rs, err := classify.LoadRuleset(*rules)
	if err != nil {
		return nil, nil, jobs.Usagef("--rules: %w", err)
	}
	c, err := classify.New(rs, opts)
	if err != nil {
		return nil, nil, jobs.Usagef("--rules: %w", err)
	}
	return c, rs, nil
}
