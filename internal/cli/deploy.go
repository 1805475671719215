package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/deploy"
	"github.com/ghsync/ghsync/internal/jobs"
)

func (a *app) deployCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Deploy to AWS Lambda: CloudFormation template, EventBridge schedules",
		Long: `Run the configured jobs on AWS Lambda (the same binary, named bootstrap, on
provided.al2023). See docs/deploy.md for the walkthrough.

  ghsync deploy template            CloudFormation template for the configured jobs
  ghsync deploy schedules list      EventBridge rules that invoke an existing function
  ghsync deploy schedules update    replace them with the configured schedules
  ghsync deploy schedules invoke    invoke one rule's input synchronously`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.deployTemplateCmd(), a.deploySchedulesCmd())
	return cmd
}

func (a *app) deployTemplateCmd() *cobra.Command {
	var opts deploy.Options
	var format, out string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "template",
		Short: "Print a CloudFormation template for the configured jobs",
		Long: `Print a CloudFormation template (YAML, or JSON with --format json) that runs the
configured jobs on AWS Lambda: the function (code location as parameters), an IAM
role granting only the configured buckets, prefixes and secrets, one EventBridge
Scheduler schedule per scheduled job with the input {"job": "NAME"}, EventBridge
rules for inbox buckets, a Function URL when webhooks are configured, a log group
with retention and a dead-letter queue. Warnings go to stderr and into the
template's Metadata.`,
		Example: `  ghsync deploy template --config ghsync.yaml --arch arm64 > ghsync.cfn.yaml
  aws cloudformation deploy --template-file ghsync.cfn.yaml --stack-name ghsync \
    --capabilities CAPABILITY_IAM --parameter-overrides CodeS3Bucket=B CodeS3Key=K`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				format = "json"
			}
			if format != "yaml" && format != "json" {
				return jobs.Usagef("--format %q: want yaml or json", format)
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			tpl, err := deploy.Build(cfg, opts)
			if err != nil {
				var ce *config.Error
				if errors.As(err, &ce) {
					return err
				}
				return jobs.Usage(err)
			}
			for _, w := range tpl.Warnings {
				a.logger.Warn(w)
			}
			text, err := tpl.YAML()
			if format == "json" {
				text, err = tpl.JSON()
			}
			if err != nil {
				return err
			}
			if out != "" && out != "-" {
				if err := os.WriteFile(out, text, 0o644); err != nil {
					return fmt.Errorf("write template: %w", err)
				}
				a.logger.Info("template written", "file", out, "schedules", len(tpl.Schedules), "buckets", len(tpl.Needs.Buckets))
				return nil
			}
			_, err = a.env.Stdout.Write(text)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Arch, "arch", deploy.ArchARM64, "function architecture: arm64 or x86_64")
	f.StringVar(&opts.ConfigURL, "config-url", "", "s3://BUCKET/KEY the function loads its config from (default: ghsync.yaml packaged next to bootstrap)")
	f.IntVar(&opts.LogRetentionDays, "log-retention-days", 30, "default log retention (a CloudWatch Logs value)")
	f.StringVar(&format, "format", "yaml", "yaml or json")
	f.BoolVar(&asJSON, "json", false, "same as --format json")
	f.StringVarP(&out, "output", "o", "", "write the template to this file instead of stdout")
	return cmd
}

// awsFlags are the flags shared by the schedules verbs.
type awsFlags struct {
	function, region, profile, endpoint, prefix string
	json, dryRun                                bool
}

func (f *awsFlags) add(cmd *cobra.Command, changes bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.function, "function", "", "the Lambda function: name or ARN (required)")
	fl.StringVar(&f.region, "region", "", "AWS region (default from the environment or profile)")
	fl.StringVar(&f.profile, "profile", "", "AWS shared-config profile")
	fl.StringVar(&f.endpoint, "endpoint-url", "", "override the EventBridge, Lambda and STS endpoints (LocalStack, moto)")
	fl.StringVar(&f.prefix, "prefix", deploy.DefaultRulePrefix, "rule name prefix for configured jobs (rule = PREFIX+JOB)")
	fl.BoolVar(&f.json, "json", false, "print JSON on stdout (logs stay on stderr)")
	if changes {
		fl.BoolVar(&f.dryRun, "dry-run", false, "print the plan; change nothing")
	}
}

func (a *app) rules(ctx context.Context, f *awsFlags) (*deploy.Rules, error) {
	if f.function == "" {
		return nil, jobs.Usagef("--function is required (the Lambda function's name or ARN)")
	}
	r, err := deploy.NewRules(ctx, f.function, deploy.ClientOptions{Region: f.region, Profile: f.profile,
		EventsEndpoint: f.endpoint, LambdaEndpoint: f.endpoint, STSEndpoint: f.endpoint, Logger: a.logger})
	if err != nil {
		return nil, err
	}
	r.Prefix = f.prefix
	return r, nil
}

func (a *app) deploySchedulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedules",
		Short: "Manage the EventBridge rules that invoke an existing function (update_triggers.py)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.schedulesListCmd(), a.schedulesUpdateCmd(), a.schedulesInvokeCmd())
	return cmd
}

func (a *app) schedulesListCmd() *cobra.Command {
	var f awsFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the EventBridge rules that target the function, with their inputs",
		Example: "  ghsync deploy schedules list --function ghsync",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := a.rules(cmd.Context(), &f)
			if err != nil {
				return err
			}
			rules, err := r.List(cmd.Context())
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(a.env.Stdout, map[string]any{"function": r.FunctionARN, "rules": rules})
			}
			if len(rules) == 0 {
				fmt.Fprintf(a.env.Stdout, "no EventBridge rules target %s\n", r.FunctionARN)
				return nil
			}
			tw := tabwriter.NewWriter(a.env.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RULE\tSCHEDULE\tSTATE\tINPUT")
			for _, rl := range rules {
				for _, in := range rl.Inputs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", rl.Name, dash(rl.Schedule), rl.State, dash(in))
				}
			}
			return tw.Flush()
		},
	}
	f.add(cmd, false)
	return cmd
}

func (a *app) schedulesUpdateCmd() *cobra.Command {
	var f awsFlags
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Replace the rules that target the function with the configured schedules",
		Long: `Make the EventBridge rules that invoke the function match the config: one rule
PREFIX+JOB per scheduled job (schedule translated to EventBridge syntax, input
{"job": "NAME"}, enabled, with the invoke permission); every other rule that
targets the function is deleted, or only loses that target when it has others.
Jobs with a timezone are refused (rules run in UTC): use deploy template.`,
		Example: "  ghsync deploy schedules update --function ghsync --dry-run",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			want, err := deploy.Schedules(cfg)
			if err != nil {
				return err
			}
			r, err := a.rules(cmd.Context(), &f)
			if err != nil {
				return err
			}
			plan, err := r.Plan(cmd.Context(), want)
			if err != nil {
				return err
			}
			if !f.dryRun {
				if err := r.Apply(cmd.Context(), plan); err != nil {
					return err
				}
			}
			if f.json {
				return printJSON(a.env.Stdout, map[string]any{"function": r.FunctionARN, "dry_run": f.dryRun, "changes": plan})
			}
			tw := tabwriter.NewWriter(a.env.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RULE\tACTION\tSCHEDULE\tINPUT")
			for _, c := range plan {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Rule, c.Action, dash(c.Schedule), dash(c.Input))
			}
			if f.dryRun {
				fmt.Fprintln(tw, "(dry run: nothing changed)")
			}
			return tw.Flush()
		},
	}
	f.add(cmd, true)
	return cmd
}

func (a *app) schedulesInvokeCmd() *cobra.Command {
	var f awsFlags
	var rule string
	cmd := &cobra.Command{
		Use:   "invoke",
		Short: "Invoke the function synchronously with one rule's input and print the result",
		Long: `Invoke the function (RequestResponse) with the input of --rule: a configured job
(by job name or PREFIX+JOB), else the input of that live EventBridge rule's
target. --dry-run adds "dry_run": true to the input, so the function plans
without changing anything. Exit code 1 when the function reports an error.`,
		Example: "  ghsync deploy schedules invoke --rule ghsync-site --function ghsync",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rule == "" {
				return jobs.Usagef("--rule is required (see `ghsync deploy schedules list`)")
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			want, err := deploy.Schedules(cfg)
			if err != nil {
				return err
			}
			var names []string
			for _, j := range cfg.Jobs {
				names = append(names, j.Name)
			}
			r, err := a.rules(cmd.Context(), &f)
			if err != nil {
				return err
			}
			input, err := r.RuleInput(cmd.Context(), rule, want, names)
			if err != nil {
				return err
			}
			if f.dryRun {
				if input, err = deploy.WithDryRun(input); err != nil {
					return err
				}
			}
			res, err := r.Invoke(cmd.Context(), input)
			if err != nil {
				return err
			}
			res.Rule = rule
			if res.LogTail != "" && !f.json {
				fmt.Fprint(a.stderr, res.LogTail)
			}
			if f.json {
				a.emitJSON(res) // Main adds "error" when the function failed
			} else {
				_, err = fmt.Fprintf(a.env.Stdout, "%s\n", res.Payload)
			}
			if err != nil {
				return err
			}
			if res.FunctionError != "" {
				return fmt.Errorf("function %s failed (%s): %s", r.FunctionARN, res.FunctionError, res.Payload)
			}
			return nil
		},
	}
	f.add(cmd, true)
	cmd.Flags().StringVar(&rule, "rule", "", "the rule (or job) whose input to send (required)")
	return cmd
}
