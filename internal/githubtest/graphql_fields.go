package githubtest

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// commitField resolves a field of Commit.
func (x *gqlExec) commitField(c *gqlCommit, f *ast.Field, args map[string]any) any {
	s := x.s
	headline, body, _ := strings.Cut(c.info.Message, "\n")
	switch f.Name {
	case "oid":
		return c.sha
	case "abbreviatedOid":
		return c.sha[:7]
	case "id":
		return "C_" + c.sha
	case "message":
		return c.info.Message
	case "messageHeadline":
		return headline
	case "messageBody":
		return strings.TrimLeft(body, "\n")
	case "authoredDate":
		return c.authored
	case "committedDate":
		return c.authored
	case "url":
		return fmt.Sprintf("https://github.com/%s/%s/commit/%s", c.repo.Owner, c.repo.Name, c.sha)
	case "author", "committer":
		return gqlActor{c}
	case "status":
		if len(c.info.Statuses) == 0 {
			return nil
		}
		return gqlStat{c}
	case "checkSuites":
		items := make([]any, len(c.suites))
		for i, su := range c.suites {
			items[i] = su
		}
		return x.page(items, args, "cs:"+c.sha)
	case "associatedPullRequests":
		var items []any
		if c.info.PullRequest > 0 {
			items = append(items, gqlPR{c})
		}
		return x.page(items, args, "pr:"+c.sha)
	case "history":
		var items []any
		for sha := c.sha; sha != ""; {
			items = append(items, s.gqlCommitLocked(sha))
			gc := s.commits[sha]
			if gc == nil || len(gc.parents) == 0 {
				break
			}
			sha = gc.parents[0]
		}
		for _, a := range []string{"since", "until", "path", "author"} {
			if args[a] != nil {
				x.unimpl = append(x.unimpl, "Commit.history("+a+":)")
			}
		}
		return x.page(items, args, c.sha)
	}
	x.unimpl = append(x.unimpl, "Commit."+f.Name)
	return nil
}

// suiteField resolves a field of CheckSuite.
func (x *gqlExec) suiteField(su *gqlSuite, f *ast.Field, args map[string]any) any {
	switch f.Name {
	case "id":
		return su.nodeID
	case "databaseId":
		return su.id
	case "app":
		return gqlApp{su}
	case "createdAt", "updatedAt":
		return su.created
	case "url":
		return fmt.Sprintf("https://github.com/%s/%s/commit/%s/checks?check_suite_id=%d", su.commit.repo.Owner, su.commit.repo.Name, su.commit.sha, su.id)
	case "workflowRun":
		if su.spec.AppSlug != "github-actions" {
			return nil
		}
		return gqlWFRun{su}
	case "status", "conclusion":
		st, concl := "COMPLETED", "SUCCESS"
		for _, r := range su.spec.Runs {
			rs, rc := runState(r)
			if rs != "COMPLETED" {
				st = "IN_PROGRESS"
			} else if rc != "SUCCESS" && rc != "SKIPPED" && rc != "NEUTRAL" && concl == "SUCCESS" {
				concl = rc
			}
		}
		if len(su.spec.Runs) == 0 {
			st = "QUEUED"
		}
		if f.Name == "status" {
			return st
		}
		if st != "COMPLETED" {
			return nil
		}
		return concl
	case "checkRuns":
		items := make([]any, len(su.spec.Runs))
		for i := range su.spec.Runs {
			items[i] = gqlRun{su, i}
		}
		return x.page(items, args, "cr:"+su.nodeID)
	}
	x.unimpl = append(x.unimpl, "CheckSuite."+f.Name)
	return nil
}

// runState returns a run's status and conclusion with defaults applied.
func runState(r CheckRun) (status, conclusion string) {
	status = r.Status
	if status == "" {
		status = "QUEUED"
		if r.Conclusion != "" {
			status = "COMPLETED"
		}
	}
	if status != "COMPLETED" {
		return status, ""
	}
	return status, r.Conclusion
}

func runURL(su *gqlSuite) string {
	return fmt.Sprintf("https://github.com/%s/%s/actions/runs/%d", su.commit.repo.Owner, su.commit.repo.Name, su.runID)
}

// runField resolves a field of CheckRun.
func (x *gqlExec) runField(o gqlRun, f *ast.Field) any {
	r := o.su.spec.Runs[o.i]
	id := o.su.runIDs[o.i]
	st, concl := runState(r)
	switch f.Name {
	case "id":
		return "CR_kwDO" + strconv.FormatInt(id, 10)
	case "databaseId":
		return id
	case "name":
		return r.Name
	case "status":
		return st
	case "conclusion":
		return nullStr(concl)
	case "detailsUrl":
		if r.DetailsURL != "" {
			return r.DetailsURL
		}
		if o.su.spec.AppSlug == "github-actions" {
			return fmt.Sprintf("%s/job/%d", runURL(o.su), id)
		}
		return nil
	case "permalink", "url":
		return fmt.Sprintf("https://github.com/%s/%s/runs/%d", o.su.commit.repo.Owner, o.su.commit.repo.Name, id)
	case "startedAt":
		return nullTime(r.StartedAt)
	case "completedAt":
		return nullTime(r.CompletedAt)
	}
	x.unimpl = append(x.unimpl, "CheckRun."+f.Name)
	return nil
}

// page slices items by first/after or last/before into a connection.
func (x *gqlExec) page(items []any, args map[string]any, scope string) *gqlConn {
	cursorOf := func(i int) string {
		return base64.StdEncoding.EncodeToString([]byte(scope + " " + strconv.Itoa(i)))
	}
	index := func(cur any) (int, bool) {
		c, _ := cur.(string)
		if c == "" {
			return 0, false
		}
		raw, err := base64.StdEncoding.DecodeString(c)
		if err != nil {
			return 0, false
		}
		sc, n, ok := strings.Cut(string(raw), " ")
		i, err := strconv.Atoi(n)
		if !ok || sc != scope || err != nil {
			return 0, false
		}
		return i, true
	}
	lo, hi := 0, len(items)
	if a, ok := index(args["after"]); ok {
		lo = a + 1
	} else if args["after"] != nil {
		x.errs = append(x.errs, gqlErr{Message: fmt.Sprintf("`%v` does not appear to be a valid cursor.", args["after"])})
		lo = hi
	}
	if b, ok := index(args["before"]); ok {
		hi = b
	}
	lo, hi = min(lo, len(items)), max(min(hi, len(items)), 0)
	if lo > hi {
		lo = hi
	}
	start, end := lo, hi
	if n, ok := pageArg(args["first"]); ok && end-start > n {
		end = start + n
	}
	if n, ok := pageArg(args["last"]); ok && end-start > n {
		start = end - n
	}
	return &gqlConn{items: items[start:end], start: start, total: len(items), hasNext: end < len(items), hasPrev: start > 0, cursorOf: cursorOf}
}

// connField resolves a field of any connection.
func (x *gqlExec) connField(c *gqlConn, f *ast.Field) any {
	switch f.Name {
	case "nodes":
		return append([]any(nil), c.items...)
	case "edges":
		out := make([]any, len(c.items))
		for i, it := range c.items {
			out[i] = gqlEdge{it, c.cursorOf(c.start + i)}
		}
		return out
	case "pageInfo":
		return gqlPageInfo{c}
	case "totalCount":
		return c.total
	}
	x.unimpl = append(x.unimpl, "Connection."+f.Name)
	return nil
}
