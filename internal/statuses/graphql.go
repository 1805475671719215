package statuses

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/ghsync/ghsync/internal/github"
)

// GraphQLURL derives GitHub's GraphQL endpoint from a REST API base URL:
// https://api.github.com/ → https://api.github.com/graphql; a GitHub
// Enterprise Server base https://HOST/api/v3/ → https://HOST/api/graphql;
// any other base (a test server) → BASE/graphql. Empty means github.com.
func GraphQLURL(apiBase string) string {
	if apiBase == "" {
		apiBase = github.DefaultBaseURL
	}
	u, err := url.Parse(apiBase)
	if err != nil {
		return strings.TrimSuffix(apiBase, "/") + "/graphql"
	}
	p := strings.TrimSuffix(u.Path, "/")
	if strings.HasSuffix(p, "/api/v3") {
		u.Path = strings.TrimSuffix(p, "/v3") + "/graphql"
	} else {
		u.Path = p + "/graphql"
	}
	return u.String()
}

// gqlError is one entry of a GraphQL response's "errors".
type gqlError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Path    []any  `json:"path"`
}

// QueryError is a failed GraphQL request: GitHub answered errors, or an
// HTTP failure.
type QueryError struct {
	// Status is the HTTP status (0 for a network failure).
	Status int
	// Errors are GitHub's error messages.
	Errors []string
	// Heavy is true when GitHub said the query was too big or too slow
	// (node limit, timeout): a smaller query may succeed.
	Heavy bool
	// Transient is true when retrying the same query may succeed.
	Transient bool
	err       error
}

func (e *QueryError) Error() string {
	msg := strings.Join(e.Errors, "; ")
	if e.err != nil {
		msg = e.err.Error()
	}
	if e.Status != 0 && e.Status != http.StatusOK {
		return fmt.Sprintf("graphql: HTTP %d: %s", e.Status, msg)
	}
	return "graphql: " + msg
}

func (e *QueryError) Unwrap() error { return e.err }

// gqlClient posts queries and counts requests and cost.
type gqlClient struct {
	http     *http.Client
	endpoint string
	queries  int          // calls of do
	attempts atomic.Int64 // HTTP requests the transport sent for them, retries included
	cost     int
}

// do posts query with vars and decodes "data" into out. Responses with
// errors fail (GitHub's partial data is never used).
func (c *gqlClient) do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return fmt.Errorf("encode graphql request: %w", err)
	}
	rctx := github.WithAttemptCounter(github.WithRoute(ctx, "POST /graphql"), &c.attempts)
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("graphql request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	c.queries++
	resp, err := c.http.Do(req)
	if err != nil {
		// The transport already retried network errors and 5xx answers
		// within the run's retry budget: not Transient here, so the
		// retries do not multiply.
		qe := &QueryError{err: err}
		var se *github.StatusError
		if errors.As(err, &se) {
			qe.Status = se.StatusCode
			qe.Heavy = se.StatusCode == http.StatusBadGateway || se.StatusCode == http.StatusGatewayTimeout
		}
		return qe
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return &QueryError{Status: resp.StatusCode, err: fmt.Errorf("read graphql response: %w", err), Transient: true}
	}
	var env struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	jerr := json.Unmarshal(raw, &env)
	if resp.StatusCode != http.StatusOK || jerr != nil || len(env.Errors) > 0 {
		qe := &QueryError{Status: resp.StatusCode}
		for _, e := range env.Errors {
			qe.Errors = append(qe.Errors, e.Message)
			if e.Type == "MAX_NODE_LIMIT_EXCEEDED" || strings.Contains(e.Message, "timeout") {
				qe.Heavy = true
			}
			if strings.HasPrefix(e.Message, "Something went wrong") {
				qe.Transient = true
			}
		}
		if len(qe.Errors) == 0 {
			var m struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal(raw, &m)
			qe.Errors = []string{firstNonEmpty(m.Message, http.StatusText(resp.StatusCode))}
		}
		if resp.StatusCode >= 500 {
			qe.Heavy = qe.Heavy || resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusGatewayTimeout
		}
		return qe
	}
	var withCost struct {
		RateLimit *struct {
			Cost int `json:"cost"`
		} `json:"rateLimit"`
	}
	if err := json.Unmarshal(env.Data, &withCost); err == nil && withCost.RateLimit != nil {
		c.cost += withCost.RateLimit.Cost
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return &QueryError{Status: resp.StatusCode, err: fmt.Errorf("decode graphql data: %w", err)}
	}
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
