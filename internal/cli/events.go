package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo"
)

func (a *app) eventsCmd() *cobra.Command {
	var database, since, cursor string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Read stored webhook deliveries and projection tables",
		Long: `Read what ghsync serve stored, from the same database:

  ghsync events deliveries [--event E] [--since 24h] [--limit N]
  ghsync events list TABLE [--repo OWNER/REPO] [--status S] [--since T] [--limit N]
  ghsync events list workflow_job --classification RULE   (jobs whose log matched RULE)

--since takes an RFC 3339 time, a date (2026-01-02) or a duration back from now (24h).`,
	}
	// open opens the webhook database; table, when set, is the projection
	// table to be read, refused (naming its DynamoDB table) when projections
	// are written only to DynamoDB.
	open := func(cmd *cobra.Command, table string) (*db.DB, error) {
		cfg, err := a.loadConfig()
		if err != nil {
			return nil, err
		}
		if table != "" && cfg.Webhooks.DynamoOnly() && webhooks.IsTable(table) {
			// The SQL table is empty by configuration: say where the rows are.
			return nil, jobs.Usage(&webhooks.DynamoOnlyError{Table: table, DynamoTable: dynamo.TableName(cfg.Webhooks.DynamoDB.TablePrefix, table)})
		}
		return a.readDB(cmd.Context(), database, cfg, "webhooks")
	}
	sinceTime := func() (time.Time, error) {
		if since == "" {
			return time.Time{}, nil
		}
		if d, err := time.ParseDuration(since); err == nil {
			return time.Now().Add(-d), nil
		}
		for _, layout := range []string{time.RFC3339, "2006-01-02"} {
			if t, err := time.Parse(layout, since); err == nil {
				return t, nil
			}
		}
		return time.Time{}, jobs.Usagef("--since %q: want an RFC 3339 time, a date or a duration like 24h", since)
	}
	var event, repo, status, classification string
	deliveries := &cobra.Command{
		Use:   "deliveries",
		Short: "List recent webhook deliveries, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := sinceTime()
			if err != nil {
				return err
			}
			d, err := open(cmd, "")
			if err != nil {
				return err
			}
			defer d.Close()
			page, err := webhooks.QueryDeliveries(cmd.Context(), d, webhooks.DeliveryQuery{Event: event, Since: st, Limit: limit, Cursor: cursor})
			if err != nil {
				return queryErr(err)
			}
			if asJSON {
				return printJSON(a.env.Stdout, page)
			}
			tw := tabwriter.NewWriter(a.env.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RECEIVED\tEVENT\tACTION\tREPO\tDELIVERY\tPROCESSED")
			for _, x := range page.Deliveries {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\n", x.ReceivedAt, x.Event, dash(x.Action), dash(x.Repo), x.DeliveryID, x.ProcessedAt != "")
			}
			if page.NextCursor != "" {
				fmt.Fprintf(tw, "(more: --cursor %s)\n", page.NextCursor)
			}
			return tw.Flush()
		},
	}
	deliveries.Flags().StringVar(&event, "event", "", "only this event")
	list := &cobra.Command{
		Use:   "list TABLE",
		Short: "List rows of a projection table, most recently updated first",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return jobs.Usagef("events list needs a TABLE (one of %v)", webhooks.Tables)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := sinceTime()
			if err != nil {
				return err
			}
			d, err := open(cmd, args[0])
			if err != nil {
				return err
			}
			defer d.Close()
			page, err := webhooks.QueryEvents(cmd.Context(), d, args[0], webhooks.EventQuery{Repo: repo, Status: status, Classification: classification, Since: st, Limit: limit, Cursor: cursor})
			if err != nil {
				return queryErr(err)
			}
			if asJSON {
				return printJSON(a.env.Stdout, page)
			}
			tw := tabwriter.NewWriter(a.env.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "UPDATED\tREPO\tNUMBER\tNAME\tSTATUS\tCONCLUSION\tKEY")
			for _, x := range page.Rows {
				num := "-"
				if x.Number != 0 {
					num = fmt.Sprint(x.Number)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.UpdatedAt, x.Repo, num, dash(clip(x.Name, 40)),
					dash(x.Status), dash(x.Conclusion), x.Key)
			}
			if page.NextCursor != "" {
				fmt.Fprintf(tw, "(more: --cursor %s)\n", page.NextCursor)
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&repo, "repo", "", "only rows of OWNER/REPO")
	list.Flags().StringVar(&status, "status", "", "only rows with this status")
	list.Flags().StringVar(&classification, "classification", "", "workflow_job only: rows whose log classification matched this rule (\"none\": classified, no rule matched)")
	for _, c := range []*cobra.Command{deliveries, list} {
		c.Flags().StringVar(&database, "database", "", "database URL (default: the config's database:)")
		c.Flags().StringVar(&since, "since", "", "only rows at or after this time")
		c.Flags().IntVar(&limit, "limit", 0, "page size (default 100)")
		c.Flags().StringVar(&cursor, "cursor", "", "continue after a previous page")
	}
	deliveries.Flags().BoolVar(&asJSON, "json", false, "print the page as JSON")
	list.Flags().BoolVar(&asJSON, "json", false, "print the page as JSON (rows with their whole objects)")
	cmd.AddCommand(deliveries, list, a.eventsReplayCmd())
	return cmd
}

func queryErr(err error) error {
	if errors.Is(err, webhooks.ErrInvalidQuery) {
		return jobs.Usage(err)
	}
	return err
}
