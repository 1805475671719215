package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/jobs"
)

func (a *app) tokenCmd() *cobra.Command {
	var owner string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "token --owner ORG",
		Short: "Print a GitHub App installation token for ORG (to debug auth)",
		Long: `Authenticate as the configured GitHub App (github.app_id and private_key, or
GITHUB_APP_ID and GITHUB_PRIVATE_KEY), discover its installation on ORG and print
an installation token on stdout. The token is a secret: it is never logged.`,
		Example: `  GITHUB_APP_ID=12345 GITHUB_PRIVATE_KEY="$(cat app.pem)" ghsync token --owner acme
  ghsync token --owner acme --config ghsync.yaml --json     # {"token": …, "expires_at": …}
  curl -H "Authorization: Bearer $(ghsync token --owner acme)" https://api.github.com/installation/repositories`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if owner == "" {
				return jobs.Usagef("token needs --owner ORG")
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			gh, err := a.runner(cfg).GitHub(cmd.Context())
			if err != nil {
				return err
			}
			tok, exp, err := gh.InstallationToken(cmd.Context(), owner)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(a.env.Stdout, map[string]any{"token": tok, "expires_at": exp.UTC().Format(time.RFC3339)})
			}
			fmt.Fprintln(a.env.Stdout, tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&owner, "owner", "", "organization or user the App is installed on")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {token, expires_at} as JSON")
	return cmd
}
