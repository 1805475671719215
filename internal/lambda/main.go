package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	awslambda "github.com/aws/aws-lambda-go/lambda"
)

// Environment variables read by Detect and Main.
const (
	// EnvRuntimeAPI is host:port of the Lambda Runtime API, set by Lambda.
	EnvRuntimeAPI = "AWS_LAMBDA_RUNTIME_API"
	// EnvLogLevel sets the log level (debug, info, warn, error; default info).
	// AWS_LAMBDA_LOG_LEVEL (set by Lambda's advanced logging controls) is the fallback.
	EnvLogLevel = "GHSYNC_LOG_LEVEL"
)

// Detect reports whether the process should serve Lambda invocations instead
// of running the CLI: it was started without arguments and either
// AWS_LAMBDA_RUNTIME_API is set or the executable is named bootstrap. Any
// argument selects the CLI, so `ghsync run JOB` still works in a Lambda image.
func Detect(args []string, getenv func(string) string) bool {
	if len(args) > 1 {
		return false
	}
	if getenv(EnvRuntimeAPI) != "" {
		return true
	}
	return len(args) == 1 && filepath.Base(args[0]) == "bootstrap"
}

// Main loads the configuration (see LoadConfig) and serves invocations from
// the Runtime API until the process is stopped; it returns an exit code only
// when start-up fails, after reporting the failure to the Runtime API's init
// error endpoint. Logs are JSON lines on stderr (CloudWatch).
func Main(ctx context.Context, getenv func(string) string, stderr io.Writer) int {
	lvl := slog.LevelInfo
	for _, k := range []string{EnvLogLevel, "AWS_LAMBDA_LOG_LEVEL"} {
		if v := getenv(k); v != "" {
			if err := lvl.UnmarshalText([]byte(v)); err == nil {
				break
			}
		}
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	api := getenv(EnvRuntimeAPI)
	if api == "" {
		log.Error("not running in AWS Lambda: " + EnvRuntimeAPI + " is not set (run `ghsync --help` for the CLI)")
		return 2
	}
	exeDir := ""
	if exe, err := os.Executable(); err == nil {
		exeDir = filepath.Dir(exe)
	}
	cfg, source, err := LoadConfig(ctx, getenv, exeDir)
	if err != nil {
		log.Error("configuration failed", "err", err)
		if rerr := reportInitError(ctx, api, ErrTypeConfig, err); rerr != nil {
			log.Error("reporting the init error failed", "err", rerr)
		}
		return 2
	}
	for _, w := range cfg.Warnings {
		log.Warn(w.Error())
	}
	log.Info("ghsync Lambda ready", "config", source, "jobs", len(cfg.Jobs))
	h := New(cfg, log, getenv)
	awslambda.StartWithOptions(h, awslambda.WithContext(ctx), awslambda.WithEnableSIGTERM(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		if err := h.Close(cctx); err != nil {
			log.Warn("shutdown", "err", err)
		}
	}))
	return 1 // StartWithOptions only returns when the runtime loop broke
}

// reportInitError posts err to the Runtime API's init error endpoint.
func reportInitError(ctx context.Context, api, typ string, err error) error {
	body, _ := json.Marshal(map[string]any{"errorMessage": err.Error(), "errorType": typ, "stackTrace": []string{}})
	req, rerr := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error", bytes.NewReader(body))
	if rerr != nil {
		return fmt.Errorf("build init error request: %w", rerr)
	}
	req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime."+typ)
	req.Header.Set("Content-Type", "application/json")
	res, rerr := http.DefaultClient.Do(req)
	if rerr != nil {
		return fmt.Errorf("post init error: %w", rerr)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("post init error: HTTP %d", res.StatusCode)
	}
	return nil
}
