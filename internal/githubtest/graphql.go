package githubtest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// GraphQL: POST /graphql (and /api/graphql, GitHub Enterprise Server's
// path) answers queries from the fake's repositories, commits, check suites,
// check runs and statuses. Every query is validated against GitHub's public
// schema (RequireGraphQLSchema); an invalid query is answered with GitHub's
// error shape and recorded as a Violation (kind "graphql"), so it fails the
// test. Node counts and rate-limit costs follow GitHub's documented rules
// ("GraphQL resource limitations"): every connection needs first or last in
// 1..100; nodes = Σ over connections of (product of the first/last of the
// enclosing connections × its own first/last), refused above the node limit;
// cost = Σ over connections of the product of the enclosing connections'
// sizes, divided by 100 and rounded, minimum 1.

const graphQLRoute = "POST /graphql"

// gqlRequest is the JSON body of a GraphQL request.
type gqlRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

// gqlErr is one entry of a GraphQL "errors" array.
type gqlErr struct {
	Type      string           `json:"type,omitempty"`
	Path      []any            `json:"path,omitempty"`
	Locations []map[string]int `json:"locations,omitempty"`
	Message   string           `json:"message"`
}

func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request, reqID string) {
	schema := RequireGraphQLSchema(s.t)
	s.mu.Lock()
	s.counts[graphQLRoute]++
	s.mu.Unlock()
	rec := GraphQLCall{}
	status, body := s.answerGraphQL(r, schema, reqID, &rec)
	rec.Status = status
	var parsed struct {
		Errors []gqlErr `json:"errors"`
	}
	_ = json.Unmarshal(body, &parsed)
	for _, e := range parsed.Errors {
		rec.Errors = append(rec.Errors, e.Message)
	}
	s.mu.Lock()
	g := s.gqlLocked()
	g.calls = append(g.calls, rec)
	g.costUsed += rec.Cost
	used := g.costUsed
	s.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, 5000-used)))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Resource", "graphql")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	n, _ := w.Write(body)
	s.addBytes(int64(n))
	s.log.Debug("githubtest: graphql", "status", status, "nodes", rec.Nodes, "cost", rec.Cost, "request_id", reqID)
}

// answerGraphQL produces the status and body for one GraphQL request.
func (s *Server) answerGraphQL(r *http.Request, schema *ast.Schema, reqID string, rec *GraphQLCall) (int, []byte) {
	errBody := func(status int, errs ...gqlErr) (int, []byte) {
		b, _ := json.Marshal(map[string]any{"errors": errs})
		return status, b
	}
	// Authentication: GraphQL always needs credentials.
	c := &call{s: s, r: r, route: graphQLRoute, w: &response{header: http.Header{}}, reqID: reqID}
	if r.Header.Get("Authorization") == "" {
		b, _ := json.Marshal(map[string]string{"message": "This endpoint requires you to be authenticated.",
			"documentation_url": "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql"})
		return http.StatusUnauthorized, b
	}
	if !s.authenticate(c) {
		return c.w.status, c.w.body.Bytes()
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return errBody(http.StatusBadRequest, gqlErr{Message: "Problems parsing JSON"})
	}
	var req gqlRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		s.addViolation(Violation{Route: graphQLRoute, Kind: "graphql", Status: http.StatusBadRequest, Err: "body is not JSON: " + err.Error()})
		return errBody(http.StatusBadRequest, gqlErr{Message: "Problems parsing JSON"})
	}
	rec.Query = req.Query
	if strings.TrimSpace(req.Query) == "" {
		s.addViolation(Violation{Route: graphQLRoute, Kind: "graphql", Status: 200, Err: "no query"})
		return errBody(http.StatusOK, gqlErr{Message: "A query attribute must be specified and must be a string."})
	}
	if f := s.takeGraphQLFailure(req.Query); f != nil {
		switch f.status {
		case http.StatusOK:
			return errBody(http.StatusOK, gqlErr{Message: "Something went wrong while executing your query. Please include `" + reqID + "` when reporting this issue."})
		case http.StatusBadGateway:
			return http.StatusBadGateway, []byte(`{"data":null,"errors":[{"message":"Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug. Please include ` + "`" + reqID + "`" + ` when reporting this issue."}]}`)
		default:
			return errBody(f.status, gqlErr{Message: http.StatusText(f.status)})
		}
	}
	doc, errs := parseAndValidate(schema, req.Query)
	if len(errs) > 0 {
		out := make([]gqlErr, 0, len(errs))
		for _, e := range errs {
			s.addViolation(Violation{Route: graphQLRoute, Kind: "graphql", Status: 200, Err: e.Error()})
			ge := gqlErr{Message: e.Message}
			for _, l := range e.Locations {
				ge.Locations = append(ge.Locations, map[string]int{"line": l.Line, "column": l.Column})
			}
			out = append(out, ge)
		}
		return errBody(http.StatusOK, out...)
	}
	op := doc.Operations.ForName(req.OperationName)
	if op == nil || op.Operation != ast.Query {
		s.addViolation(Violation{Route: graphQLRoute, Kind: "graphql", Status: 200, Err: "no query operation (mutations are not supported by the fake)"})
		return errBody(http.StatusOK, gqlErr{Message: "No operation named " + strconv.Quote(req.OperationName)})
	}
	vars, verr := validator.VariableValues(schema, op, req.Variables)
	if verr != nil {
		s.addViolation(Violation{Route: graphQLRoute, Kind: "graphql", Status: 200, Err: verr.Error()})
		return errBody(http.StatusOK, gqlErr{Type: "INVALID_VARIABLES", Message: verr.Error()})
	}
	nodes, requests, lerr := countNodes(op.SelectionSet, vars, 1)
	if lerr != nil {
		s.addViolation(Violation{Route: graphQLRoute, Kind: "graphql", Status: 200, Err: lerr.Message})
		return errBody(http.StatusOK, *lerr)
	}
	rec.Nodes = nodes
	s.mu.Lock()
	limit := s.gqlLocked().nodeLimit
	s.mu.Unlock()
	if nodes > limit {
		return errBody(http.StatusOK, gqlErr{Type: "MAX_NODE_LIMIT_EXCEEDED",
			Message: fmt.Sprintf("This query requests up to %s possible nodes which exceeds the maximum limit of %s.", commas(nodes), commas(limit))})
	}
	rec.Cost = max(1, int(math.Round(float64(requests)/100)))
	x := &gqlExec{s: s, schema: schema, vars: vars, cost: rec.Cost, nodes: nodes}
	data := x.run(op)
	out := map[string]any{"data": data}
	if len(x.errs) > 0 {
		out["errors"] = x.errs
	}
	b, err := json.Marshal(out)
	if err != nil {
		return errBody(http.StatusInternalServerError, gqlErr{Message: "githubtest: marshal: " + err.Error()})
	}
	return http.StatusOK, b
}

// parseAndValidate parses query and validates it against schema with the
// specification's rules.
func parseAndValidate(schema *ast.Schema, query string) (*ast.QueryDocument, gqlerror.List) {
	doc, err := parser.ParseQuery(&ast.Source{Name: "query", Input: query})
	if err != nil {
		if ge, ok := err.(*gqlerror.Error); ok {
			return nil, gqlerror.List{ge}
		}
		return nil, gqlerror.List{gqlerror.Wrap(err)}
	}
	if errs := validator.ValidateWithRules(schema, doc, rules.NewDefaultRules()); len(errs) > 0 {
		return nil, errs
	}
	return doc, nil
}

// countNodes walks a validated selection set (fragments expanded) and
// returns GitHub's node count and the number of "requests" (the sum, over
// connections, of the product of the enclosing connections' sizes). mult
// is the product of the enclosing connections' sizes.
func countNodes(set ast.SelectionSet, vars map[string]any, mult int) (nodes, requests int, err *gqlErr) {
	for _, sel := range set {
		var sub ast.SelectionSet
		childMult := mult
		switch f := sel.(type) {
		case *ast.Field:
			sub = f.SelectionSet
			if isConnection(f) {
				args := f.ArgumentMap(vars)
				n, ok := pageArg(args["first"])
				if !ok {
					n, ok = pageArg(args["last"])
				}
				if !ok {
					return 0, 0, &gqlErr{Type: "MISSING_PAGINATION_BOUNDARIES", Path: []any{f.Alias},
						Message: fmt.Sprintf("You must provide a `first` or `last` value to properly paginate the `%s` connection.", f.Name)}
				}
				if n < 1 || n > 100 {
					return 0, 0, &gqlErr{Type: "EXCESSIVE_PAGINATION", Path: []any{f.Alias},
						Message: fmt.Sprintf("Requesting %d records on the `%s` connection exceeds the `first` limit of 100 records.", n, f.Name)}
				}
				nodes += mult * n
				requests += mult
				childMult = mult * n
			}
		case *ast.InlineFragment:
			sub = f.SelectionSet
		case *ast.FragmentSpread:
			if f.Definition != nil {
				sub = f.Definition.SelectionSet
			}
		}
		n, r, err := countNodes(sub, vars, childMult)
		if err != nil {
			return 0, 0, err
		}
		nodes += n
		requests += r
	}
	return nodes, requests, nil
}

// isConnection reports whether f is a paginated connection field.
func isConnection(f *ast.Field) bool {
	if f.Definition == nil || f.Definition.Type == nil {
		return false
	}
	if !strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
		return false
	}
	return f.Definition.Arguments.ForName("first") != nil || f.Definition.Arguments.ForName("last") != nil
}

func pageArg(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

// commas formats n with thousands separators, as GitHub's messages do.
func commas(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
