// Package cli builds ghsync's command tree. Each verb lives in its own file
// and only parses flags and calls into a capability through jobs.Runner;
// exit codes: 0 ok, 1 the job failed, 2 bad usage or configuration.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/schedule"
	"github.com/ghsync/ghsync/internal/store"
)

// Exit codes.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitUsage  = 2
)

// Env is what the commands read from the outside world (tests replace it).
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	IsTTY          bool // stderr is a terminal: show progress
	// GitHubRetryBase is the first pause between attempts of a GitHub
	// request (jobs.Env.GitHubRetryBase; zero = the defaults); tests that
	// exercise retries set it small. The number of attempts does not change.
	GitHubRetryBase time.Duration
}

// app holds the global flags and lazily loaded state shared by verbs.
type app struct {
	env        Env
	configPath string
	logLevel   string
	logFormat  string
	quiet      bool
	logger     *slog.Logger
	stderr     *stderrOwner // every write to stderr goes through it
	jsonOut    any          // the --json object, printed by Main (see emitJSON)
}

// Main runs ghsync with args and returns the process exit code: 0, 1 when
// the command failed, 2 for bad usage or configuration, 128+signal when a
// signal canceled ctx (NotifyInterrupt) before the command finished.
//
// With --json, stdout is one JSON object, carrying a top-level "error" when
// the command failed (and "interrupted": true after a signal): the object a
// verb handed to emitJSON with those keys set, or {"error": …} when it
// printed nothing.
func Main(ctx context.Context, args []string, env Env) int {
	stdout := &countingWriter{w: env.Stdout}
	env.Stdout = stdout
	a := &app{env: env, stderr: &stderrOwner{w: env.Stderr}}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(env.Stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	err = asInterrupted(ctx, err)
	var ie *interruptedError
	interrupted := errors.As(err, &ie)
	if a.jsonOut != nil || (err != nil && wantsJSON(cmd, args) && stdout.n == 0) {
		// --json promises one JSON object on stdout, failures included.
		msg := ""
		if err != nil {
			msg = userMessage(err)
		}
		if perr := printJSON(stdout, jsonWithError(a.jsonOut, msg, interrupted)); perr != nil && err == nil {
			err = perr
		}
	}
	if err == nil {
		return ExitOK
	}
	code := ExitFailed
	switch {
	case interrupted:
		code = ie.by.ExitCode()
		if a.logger != nil {
			a.logger.Debug("interrupted", "signal", ie.by.Signal.String(), "err", ie.err)
		}
	case isUsage(err):
		code = ExitUsage
	}
	var ce *store.CredentialsError
	if errors.As(err, &ce) && a.logger != nil {
		a.logger.Debug("credentials error", "store", ce.URL, "sdk_error", ce.Cause, "operation", err.Error())
	}
	fmt.Fprintln(a.stderr, "ghsync: "+userMessage(err))
	return code
}

// wantsJSON reports whether the command line asked for --json output.
func wantsJSON(cmd *cobra.Command, args []string) bool {
	if cmd != nil {
		if f := cmd.Flags().Lookup("json"); f != nil && f.Changed {
			return f.Value.String() == "true"
		}
	}
	for _, a := range args {
		if a == "--json" || a == "--json=true" {
			return true
		}
	}
	return false
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// isUsage reports whether err is bad usage or configuration (exit 2).
func isUsage(err error) bool {
	var ce *config.Error
	return errors.As(err, &ce) || errors.Is(err, jobs.ErrUsage) ||
		strings.HasPrefix(err.Error(), "unknown command") // cobra's own usage error
}

// userMessage is the error's message as users see it. A store's missing
// credentials are one sentence of their own (which store, which sources
// were tried, what to set), whatever operation ran into them.
func userMessage(err error) string {
	var ie *interruptedError
	if errors.As(err, &ie) {
		return ie.Error()
	}
	var ce *store.CredentialsError
	if errors.As(err, &ce) {
		return ce.Error()
	}
	return err.Error()
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "ghsync",
		Short: "Keep object storage in step with GitHub, and GitHub with storage",
		Long: `ghsync mirrors GitHub repositories into buckets (S3 and compatible, GCS,
Azure Blob, a local folder), and runs the jobs of one YAML config once, on
schedules, or as an AWS Lambda.

Start with:  ghsync sync . file://./out   (mirror this checkout's HEAD into ./out)`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setupLogging()
		},
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "config file (default $GHSYNC_CONFIG, then ./ghsync.yaml, else embedded defaults)")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", "text", "log format on stderr: text or json")
	root.PersistentFlags().BoolVarP(&a.quiet, "quiet", "q", false, "no progress line on the terminal (logs still follow --log-level)")
	root.Version = versionString()
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return jobs.Usage(err) })
	root.AddCommand(a.syncCmd(), a.runCmd(), a.jobsCmd(), a.tokenCmd(), a.versionCmd())
	root.AddCommand(a.statusesCmd(), a.hudCmd(), a.serveCmd(), a.eventsCmd())
	root.AddCommand(a.deployCmd())
	root.AddCommand(a.inboxCmd())
	root.AddCommand(a.classifyCmd())
	root.AddCommand(a.checkCmd())
	root.AddCommand(a.webhooksCmd())
	return root
}

func (a *app) setupLogging() error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(a.logLevel)); err != nil {
		return jobs.Usagef("--log-level %q: want debug, info, warn or error", a.logLevel)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch a.logFormat {
	case "text":
		a.logger = slog.New(slog.NewTextHandler(a.stderr, opts))
	case "json":
		a.logger = slog.New(slog.NewJSONHandler(a.stderr, opts))
	default:
		return jobs.Usagef("--log-format %q: want text or json", a.logFormat)
	}
	return nil
}

// loadConfig loads the configuration named by --config (or the defaults).
func (a *app) loadConfig() (*config.Config, error) {
	cfg, err := jobs.LoadConfig(a.configPath, a.env.Getenv)
	if err != nil {
		return nil, jobs.Usage(err) // unreadable or invalid configuration: exit 2
	}
	if _, err := schedule.FromConfig(cfg); err != nil {
		return nil, err // a bad schedule is a configuration error for every verb
	}
	for _, w := range cfg.Warnings {
		a.logger.Warn(w.Error())
	}
	return cfg, nil
}

// runner returns a job runner over cfg.
func (a *app) runner(cfg *config.Config) *jobs.Runner {
	return &jobs.Runner{Config: cfg, Logger: a.logger, Getenv: a.env.Getenv, GitHubRetryBase: a.env.GitHubRetryBase}
}

// Stdio returns the Env of a real process.
func Stdio() Env {
	return Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, IsTTY: isTerminal(os.Stderr)}
}
