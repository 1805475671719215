package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/webhooks/classify"
)

// classifyCmd is `ghsync classify LOGFILE… [--rules FILE] [--context N] [--json]`:
// the webhook log classifier on local files.
func (a *app) classifyCmd() *cobra.Command {
	var rules string
	var contextLines int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "classify LOGFILE...",
		Short: "Classify CI job logs (plain or gzip) with the webhook log classifier",
		Long: `Run the classifier that ghsync serve applies to downloaded job logs on local
files (plain or gzip-compressed, detected from the content). The rules file is
PyTorch's log classifier format (ruleset.toml): an ordered list of [[rule]]
with name and pattern, first rule highest priority; without --rules the
built-in ruleset is used. See docs/webhooks.md.

For each file: the winning rule, the matching line and its number, the
captures and up to --context '+' lines before it; with --json one object per
file on its own line: {"file": …, "match": {"rule", "line", "line_num",
"captures", "context"}}, "match": null when no rule matched.

Exit status: 0 when every file was classified (matched or not), 1 when some
file could not be read, 2 for a bad rules file or flags.`,
		Example: "  ghsync classify job-1234.log\n  ghsync classify --rules ci/ruleset.toml --json logs/*.gz",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return jobs.Usagef("classify needs at least one LOGFILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			rs := classify.DefaultRuleset()
			if rules != "" {
				var err error
				if rs, err = classify.LoadRuleset(rules); err != nil {
					return jobs.Usagef("--rules: %w", err)
				}
			}
			opts := classify.Options{} // the default context
			if cmd.Flags().Changed("context") {
				if contextLines < 0 {
					return jobs.Usagef("--context must be 0 or more (got %d)", contextLines)
				}
				opts = classify.ContextLines(contextLines)
			}
			c, err := classify.New(rs, opts)
			if err != nil {
				return jobs.Usagef("--rules: %w", err)
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
	cmd.Flags().StringVar(&rules, "rules", "", "rules file in PyTorch's ruleset.toml format (default: the built-in ruleset)")
	cmd.Flags().IntVar(&contextLines, "context", classify.DefaultContext, "'+' (shell trace) lines kept before the match; 0: none")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per file, one per line")
	return cmd
}
