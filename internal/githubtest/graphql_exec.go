package githubtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// gqlExec executes one validated query against the fake's data.
type gqlExec struct {
	s      *Server
	schema *ast.Schema
	vars   map[string]any
	cost   int
	nodes  int
	errs   []gqlErr
	unimpl []string
}

// omap is a JSON object that keeps its keys in insertion order (GraphQL
// responses follow the query's field order).
type omap struct {
	keys []string
	vals map[string]any
}

func (m *omap) set(k string, v any) {
	if m.vals == nil {
		m.vals = map[string]any{}
	}
	if old, ok := m.vals[k]; ok {
		if a, ok1 := old.(*omap); ok1 {
			if b, ok2 := v.(*omap); ok2 {
				for _, bk := range b.keys {
					a.set(bk, b.vals[bk])
				}
				return
			}
		}
	} else {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

// MarshalJSON writes the object with its keys in order.
func (m *omap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(m.vals[k])
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", k, err)
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Objects the executor resolves fields on.
type (
	gqlRoot struct{}
	gqlRef  struct {
		repo *Repo
		name string
	}
	gqlActor struct{ c *gqlCommit }
	gqlUser  struct{ login string }
	gqlStat  struct{ c *gqlCommit }
	gqlCtx   struct {
		c *gqlCommit
		StatusContext
	}
	gqlConn struct {
		items    []any
		start    int
		total    int
		hasNext  bool
		hasPrev  bool
		cursorOf func(i int) string
	}
	gqlPageInfo struct{ conn *gqlConn }
	gqlEdge     struct {
		node   any
		cursor string
	}
	gqlApp   struct{ su *gqlSuite }
	gqlWFRun struct{ su *gqlSuite }
	gqlWF    struct{ su *gqlSuite }
	gqlRun   struct {
		su *gqlSuite
		i  int
	}
	gqlPR   struct{ c *gqlCommit }
	gqlRate struct{ x *gqlExec }
)

func (x *gqlExec) typename(obj any) string {
	switch o := obj.(type) {
	case gqlRoot:
		return "Query"
	case *Repo:
		return "Repository"
	case gqlRef:
		return "Ref"
	case *gqlCommit:
		return "Commit"
	case gqlActor:
		return "GitActor"
	case gqlUser:
		return "User"
	case gqlStat:
		return "Status"
	case gqlCtx:
		return "StatusContext"
	case gqlPageInfo:
		return "PageInfo"
	case *gqlSuite:
		return "CheckSuite"
	case gqlApp:
		return "App"
	case gqlWFRun:
		return "WorkflowRun"
	case gqlWF:
		return "Workflow"
	case gqlRun:
		return "CheckRun"
	case gqlPR:
		return "PullRequest"
	case gqlRate:
		return "RateLimit"
	case gqlEdge:
		return "Edge"
	case *gqlConn:
		return "Connection"
	default:
		return fmt.Sprintf("%T", o)
	}
}

// run executes op with s.mu held and returns the "data" object.
func (x *gqlExec) run(op *ast.OperationDefinition) any {
	x.s.mu.Lock()
	data := x.selectSet(op.SelectionSet, gqlRoot{}, nil)
	x.s.mu.Unlock()
	for _, u := range x.unimpl {
		x.s.addViolation(Violation{Route: graphQLRoute, Kind: "graphql", Status: 200, Err: "githubtest does not implement " + u})
	}
	return data
}

func (x *gqlExec) selectSet(set ast.SelectionSet, obj any, path []any) *omap {
	out := &omap{}
	x.collect(set, obj, path, out)
	return out
}

func (x *gqlExec) matches(obj any, cond string) bool {
	tn := x.typename(obj)
	if cond == "" || cond == tn {
		return true
	}
	if def := x.schema.Types[cond]; def != nil {
		for _, p := range x.schema.GetPossibleTypes(def) {
			if p.Name == tn {
				return true
			}
		}
	}
	return false
}

func (x *gqlExec) collect(set ast.SelectionSet, obj any, path []any, out *omap) {
	for _, sel := range set {
		switch f := sel.(type) {
		case *ast.Field:
			key := f.Alias
			if key == "" {
				key = f.Name
			}
			if f.Name == "__typename" {
				out.set(key, x.typename(obj))
				continue
			}
			p := append(append([]any(nil), path...), key)
			v := x.resolve(obj, f, f.ArgumentMap(x.vars), p)
			out.set(key, x.complete(v, f.SelectionSet, p))
		case *ast.InlineFragment:
			if x.matches(obj, f.TypeCondition) {
				x.collect(f.SelectionSet, obj, path, out)
			}
		case *ast.FragmentSpread:
			if f.Definition != nil && x.matches(obj, f.Definition.TypeCondition) {
				x.collect(f.Definition.SelectionSet, obj, path, out)
			}
		}
	}
}

func (x *gqlExec) complete(v any, set ast.SelectionSet, path []any) any {
	switch o := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]any, len(o))
		for i, e := range o {
			out[i] = x.complete(e, set, append(append([]any(nil), path...), i))
		}
		return out
	case string, int, int64, bool, float64:
		return o
	case time.Time:
		return o.UTC().Format(time.RFC3339)
	default:
		return x.selectSet(set, o, path)
	}
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// resolve returns field f of obj: a scalar, nil, a list or an object.
func (x *gqlExec) resolve(obj any, f *ast.Field, args map[string]any, path []any) any {
	s := x.s
	switch o := obj.(type) {
	case gqlRoot:
		switch f.Name {
		case "repository":
			owner, _ := args["owner"].(string)
			name, _ := args["name"].(string)
			r := s.repos[strings.ToLower(owner+"/"+name)]
			if r == nil {
				x.errs = append(x.errs, gqlErr{Type: "NOT_FOUND", Path: path,
					Message: fmt.Sprintf("Could not resolve to a Repository with the name '%s/%s'.", owner, name)})
				return nil
			}
			return r
		case "node":
			id, _ := args["id"].(string)
			if su := s.gqlLocked().suites[id]; su != nil {
				return su
			}
			return nil
		case "rateLimit":
			return gqlRate{x}
		}
	case gqlRate:
		switch f.Name {
		case "cost":
			return x.cost
		case "nodeCount":
			return x.nodes
		case "limit":
			return 5000
		case "used":
			return s.gqlLocked().costUsed + x.cost
		case "remaining":
			return max(0, 5000-s.gqlLocked().costUsed-x.cost)
		case "resetAt":
			return time.Now().Add(time.Hour).Truncate(time.Second)
		}
	case *Repo:
		switch f.Name {
		case "name":
			return o.Name
		case "nameWithOwner":
			return o.Owner + "/" + o.Name
		case "id":
			return "R_kgDO" + strconv.FormatInt(o.id, 10)
		case "ref":
			qn, _ := args["qualifiedName"].(string)
			name := strings.TrimPrefix(qn, "refs/heads/")
			if o.branches[name] == "" {
				return nil
			}
			return gqlRef{o, name}
		case "defaultBranchRef":
			if o.branches[o.defaultBranch] == "" {
				return nil
			}
			return gqlRef{o, o.defaultBranch}
		case "object":
			oid, _ := args["oid"].(string)
			if oid == "" {
				oid, _ = args["expression"].(string)
				oid, _ = o.resolveLocked(oid)
			}
			if !o.commitSet[oid] {
				return nil
			}
			return s.gqlCommitLocked(oid)
		}
	case gqlRef:
		switch f.Name {
		case "name":
			return o.name
		case "prefix":
			return "refs/heads/"
		case "id":
			return "REF_" + base64.RawStdEncoding.EncodeToString([]byte(o.repo.Name+":"+o.name))
		case "target":
			return s.gqlCommitLocked(o.repo.branches[o.name])
		}
	case *gqlCommit:
		return x.commitField(o, f, args)
	case gqlActor:
		switch f.Name {
		case "name":
			return firstNonEmpty(o.c.info.AuthorName, fakeAuthorName)
		case "email":
			return firstNonEmpty(o.c.info.AuthorEmail, fakeAuthorEmail)
		case "date":
			return o.c.authored
		case "user":
			if o.c.info.AuthorLogin == "" {
				return nil
			}
			return gqlUser{o.c.info.AuthorLogin}
		}
	case gqlUser:
		switch f.Name {
		case "login":
			return o.login
		case "id":
			return "U_" + o.login
		case "url":
			return "https://github.com/" + o.login
		}
	case gqlStat:
		switch f.Name {
		case "id":
			return "SC_" + o.c.sha
		case "state":
			return combinedState(o.c.info.Statuses)
		case "contexts":
			out := make([]any, len(o.c.info.Statuses))
			for i, sc := range o.c.info.Statuses {
				out[i] = gqlCtx{o.c, sc}
			}
			return out
		}
	case gqlCtx:
		switch f.Name {
		case "context":
			return o.Context
		case "state":
			return o.State
		case "targetUrl":
			return nullStr(o.TargetURL)
		case "description":
			return nullStr(o.Description)
		case "createdAt":
			return o.c.authored.Add(time.Minute)
		case "id":
			return "SC_" + o.c.sha + "_" + o.Context
		}
	case *gqlConn:
		return x.connField(o, f)
	case gqlEdge:
		switch f.Name {
		case "node":
			return o.node
		case "cursor":
			return o.cursor
		}
	case gqlPageInfo:
		c := o.conn
		switch f.Name {
		case "hasNextPage":
			return c.hasNext
		case "hasPreviousPage":
			return c.hasPrev
		case "endCursor":
			if len(c.items) == 0 {
				return nil
			}
			return c.cursorOf(c.start + len(c.items) - 1)
		case "startCursor":
			if len(c.items) == 0 {
				return nil
			}
			return c.cursorOf(c.start)
		}
	case *gqlSuite:
		return x.suiteField(o, f, args)
	case gqlApp:
		switch f.Name {
		case "name":
			return o.su.spec.AppName
		case "slug":
			return o.su.spec.AppSlug
		case "id":
			return "A_" + o.su.spec.AppSlug
		case "databaseId":
			return int(crc(o.su.spec.AppSlug))
		}
	case gqlWFRun:
		switch f.Name {
		case "databaseId":
			return o.su.runID
		case "id":
			return "WFR_" + strconv.FormatInt(o.su.runID, 10)
		case "runNumber":
			return max(1, o.su.spec.RunNumber)
		case "event":
			return "push"
		case "url":
			return runURL(o.su)
		case "workflow":
			return gqlWF(o)
		}
	case gqlWF:
		switch f.Name {
		case "name":
			return o.su.spec.Workflow
		case "id":
			return "W_" + o.su.spec.Workflow
		case "databaseId":
			return int(crc(o.su.spec.Workflow))
		}
	case gqlRun:
		return x.runField(o, f)
	case gqlPR:
		switch f.Name {
		case "number":
			return o.c.info.PullRequest
		case "id":
			return "PR_" + strconv.Itoa(o.c.info.PullRequest)
		case "url":
			return fmt.Sprintf("https://github.com/%s/%s/pull/%d", o.c.repo.Owner, o.c.repo.Name, o.c.info.PullRequest)
		}
	}
	x.unimpl = append(x.unimpl, x.typename(obj)+"."+f.Name)
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func crc(s string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h >> 1
}

func combinedState(cs []StatusContext) string {
	state := "SUCCESS"
	for _, c := range cs {
		switch c.State {
		case "FAILURE", "ERROR":
			return "FAILURE"
		case "PENDING", "EXPECTED":
			state = "PENDING"
		}
	}
	return state
}
