package deploy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"

	"github.com/ghsync/ghsync/internal/awsapi"
)

// DefaultRulePrefix starts the names of the rules `schedules update` creates.
const DefaultRulePrefix = "ghsync-"

// targetID is the Id of the function's target in the rules ghsync writes.
const targetID = "ghsync"

// ruleStateEnabled is the State of an enabled EventBridge rule.
const ruleStateEnabled = "ENABLED"

// Rules manages the EventBridge rules that invoke one function: the seed's
// update_triggers.py.
type Rules struct {
	// Events and Lambda call the EventBridge and Lambda APIs (awsapi
	// clients for eventsService and lambdaService); Lambda nil skips the
	// resource-policy step of Apply.
	Events, Lambda *awsapi.Client
	// FunctionARN is the function the rules target.
	FunctionARN string
	// Prefix starts the rule name of each job (default DefaultRulePrefix).
	Prefix string
	// Logger receives progress; nil discards.
	Logger *slog.Logger
}

// Rule is an EventBridge rule that targets the function.
type Rule struct {
	Name     string `json:"name"`
	ARN      string `json:"arn,omitempty"`
	Schedule string `json:"schedule,omitempty"`
	State    string `json:"state,omitempty"`
	// Inputs are the constant inputs of the rule's targets that invoke the
	// function ("" = the event itself).
	Inputs []string `json:"inputs"`
	// TargetIDs are those targets' ids.
	TargetIDs []string `json:"-"`
	// OtherTargets counts targets that are not this function.
	OtherTargets int `json:"other_targets,omitempty"`
}

// Change is one step of a `schedules update` plan.
type Change struct {
	// Rule is the rule's name.
	Rule string `json:"rule"`
	// Action is "create", "update", "unchanged", "delete" (the rule only
	// targets the function) or "remove-target" (the rule has other targets).
	Action string `json:"action"`
	// Job is the configured job ("" for rules being removed).
	Job      string `json:"job,omitempty"`
	Schedule string `json:"schedule,omitempty"`
	Input    string `json:"input,omitempty"`

	targetIDs []string
}

func (r *Rules) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

func (r *Rules) prefix() string {
	if r.Prefix == "" {
		return DefaultRulePrefix
	}
	return r.Prefix
}

// RuleName is the rule name `schedules update` gives job.
func (r *Rules) RuleName(job string) string { return r.prefix() + job }

// List returns the rules that target the function, sorted by name, with
// their schedules and the function targets' inputs.
func (r *Rules) List(ctx context.Context) ([]Rule, error) {
	var names []string
	token := ""
	for {
		in := struct {
			TargetArn string
			NextToken string `json:",omitempty"`
		}{r.FunctionARN, token}
		var out struct {
			RuleNames []string
			NextToken string
		}
		if err := eventsCall(ctx, r.Events, "ListRuleNamesByTarget", in, &out); err != nil {
			return nil, fmt.Errorf("list rules targeting %s: %w", r.FunctionARN, err)
		}
		names = append(names, out.RuleNames...)
		if token = out.NextToken; token == "" {
			break
		}
	}
	sort.Strings(names)
	rules := make([]Rule, 0, len(names))
	for _, n := range names {
		rule, err := r.describe(ctx, n)
		if err != nil {
			return nil, err
		}
		rules = append(rules, *rule)
	}
	return rules, nil
}

func (r *Rules) describe(ctx context.Context, name string) (*Rule, error) {
	var d struct{ Arn, ScheduleExpression, State string }
	if err := eventsCall(ctx, r.Events, "DescribeRule", map[string]string{"Name": name}, &d); err != nil {
		return nil, fmt.Errorf("describe rule %s: %w", name, err)
	}
	rule := &Rule{Name: name, ARN: d.Arn, Schedule: d.ScheduleExpression, State: d.State, Inputs: []string{}}
	token := ""
	for {
		in := struct {
			Rule      string
			NextToken string `json:",omitempty"`
		}{name, token}
		var out struct {
			Targets   []ebTarget
			NextToken string
		}
		if err := eventsCall(ctx, r.Events, "ListTargetsByRule", in, &out); err != nil {
			return nil, fmt.Errorf("list targets of rule %s: %w", name, err)
		}
		for _, t := range out.Targets {
			if t.Arn != r.FunctionARN {
				rule.OtherTargets++
				continue
			}
			rule.Inputs = append(rule.Inputs, t.Input)
			rule.TargetIDs = append(rule.TargetIDs, t.ID)
		}
		if token = out.NextToken; token == "" {
			break
		}
	}
	return rule, nil
}

// Plan compares the rules targeting the function with the configured
// schedules: every scheduled job gets a rule named Prefix+job whose only
// function target has the input {"job":"NAME"}; rules targeting the function
// that no job wants are deleted (or lose their function target when they
// have others). Jobs with a timezone are refused: rules run in UTC (use the
// template, whose Scheduler schedules honour it).
func (r *Rules) Plan(ctx context.Context, want []Scheduled) ([]Change, error) {
	var errs []error
	for _, s := range want {
		if s.Timezone != "" {
			errs = append(errs, fmt.Errorf("job %s: timezone %s cannot be honoured by EventBridge rules (UTC only); use `ghsync deploy template` (EventBridge Scheduler) or drop the timezone", s.Job, s.Timezone))
		}
		if n := len(r.RuleName(s.Job)); n > 64 {
			errs = append(errs, fmt.Errorf("job %s: rule name %s is %d characters (EventBridge allows 64)", s.Job, r.RuleName(s.Job), n))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	have, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]Rule{}
	for _, h := range have {
		byName[h.Name] = h
	}
	var plan []Change
	wanted := map[string]bool{}
	for _, s := range want {
		name := r.RuleName(s.Job)
		wanted[name] = true
		c := Change{Rule: name, Job: s.Job, Schedule: s.Expression, Input: s.Input, Action: "create"}
		if h, ok := byName[name]; ok {
			c.Action = "update"
			for _, id := range h.TargetIDs {
				if id != targetID {
					c.targetIDs = append(c.targetIDs, id)
				}
			}
			if h.Schedule == s.Expression && h.State == ruleStateEnabled &&
				len(h.Inputs) == 1 && sameJSON(h.Inputs[0], s.Input) && len(c.targetIDs) == 0 {
				c.Action = "unchanged"
			}
		}
		plan = append(plan, c)
	}
	for _, h := range have {
		if wanted[h.Name] {
			continue
		}
		c := Change{Rule: h.Name, Schedule: h.Schedule, Action: "delete", targetIDs: h.TargetIDs}
		if len(h.Inputs) > 0 {
			c.Input = h.Inputs[0]
		}
		if h.OtherTargets > 0 {
			c.Action = "remove-target"
		}
		plan = append(plan, c)
	}
	return plan, nil
}

// Apply carries out a plan from Plan. Created and updated rules are enabled,
// target the function with their input, and the function's resource policy
// lets EventBridge invoke it from that rule (an existing statement is fine).
func (r *Rules) Apply(ctx context.Context, plan []Change) error {
	for _, c := range plan {
		r.log().Info("schedules update", "rule", c.Rule, "action", c.Action, "schedule", c.Schedule)
		switch c.Action {
		case "unchanged":
		case "create", "update":
			if err := r.removeTargets(ctx, c.Rule, c.targetIDs); err != nil {
				return err
			}
			var out struct{ RuleArn string }
			if err := eventsCall(ctx, r.Events, "PutRule", map[string]string{"Name": c.Rule, "ScheduleExpression": c.Schedule,
				"State": ruleStateEnabled, "Description": "ghsync job " + c.Job}, &out); err != nil {
				return fmt.Errorf("put rule %s: %w", c.Rule, err)
			}
			var pt ebFailedEntries
			if err := eventsCall(ctx, r.Events, "PutTargets", struct {
				Rule    string
				Targets []ebTarget
			}{c.Rule, []ebTarget{{ID: targetID, Arn: r.FunctionARN, Input: c.Input}}}, &pt); err != nil {
				return fmt.Errorf("put target of rule %s: %w", c.Rule, err)
			}
			if err := pt.failed(); err != nil {
				return fmt.Errorf("put target of rule %s: %w", c.Rule, err)
			}
			if err := r.permit(ctx, c.Rule, out.RuleArn); err != nil {
				return err
			}
		case "delete", "remove-target":
			if err := r.removeTargets(ctx, c.Rule, c.targetIDs); err != nil {
				return err
			}
			if c.Action == "delete" {
				if err := eventsCall(ctx, r.Events, "DeleteRule", map[string]string{"Name": c.Rule}, nil); err != nil {
					return fmt.Errorf("delete rule %s: %w", c.Rule, err)
				}
			}
		default:
			return fmt.Errorf("rule %s: unknown action %q", c.Rule, c.Action)
		}
	}
	return nil
}

func (r *Rules) removeTargets(ctx context.Context, rule string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var out ebFailedEntries
	if err := eventsCall(ctx, r.Events, "RemoveTargets", struct {
		Rule string
		Ids  []string
	}{rule, ids}, &out); err != nil {
		return fmt.Errorf("remove targets %v of rule %s: %w", ids, rule, err)
	}
	if err := out.failed(); err != nil {
		return fmt.Errorf("remove targets of rule %s: %w", rule, err)
	}
	return nil
}

// permit adds the resource-policy statement letting rule invoke the function.
func (r *Rules) permit(ctx context.Context, rule, ruleARN string) error {
	if r.Lambda == nil {
		return nil
	}
	_, err := r.Lambda.CallRESTJSON(ctx, http.MethodPost, functionPath(r.FunctionARN, "policy"), nil, map[string]string{
		"StatementId": "ghsync-rule-" + rule, "Action": "lambda:InvokeFunction",
		"Principal": "events.amazonaws.com", "SourceArn": ruleARN})
	if err != nil && awsapi.ErrorCode(err) != "ResourceConflictException" { // the statement exists
		return fmt.Errorf("allow rule %s to invoke the function: %w", rule, err)
	}
	return nil
}

// InvokeResult is the answer of a synchronous invoke.
type InvokeResult struct {
	Rule  string          `json:"rule,omitempty"`
	Input json.RawMessage `json:"input"`
	// Payload is the function's response (or its error document).
	Payload json.RawMessage `json:"payload"`
	// FunctionError is set when the function failed ("Unhandled", …).
	FunctionError string `json:"function_error,omitempty"`
	// LogTail is the end of the invocation's log, when returned.
	LogTail    string `json:"log_tail,omitempty"`
	StatusCode int32  `json:"status_code"`
}

// Invoke invokes the function synchronously with input and returns its answer.
func (r *Rules) Invoke(ctx context.Context, input string) (*InvokeResult, error) {
	out, err := r.Lambda.Send(ctx, awsapi.Request{Method: http.MethodPost, Path: functionPath(r.FunctionARN, "invocations"),
		Header: http.Header{"X-Amz-Invocation-Type": {"RequestResponse"}, "X-Amz-Log-Type": {"Tail"}}, Body: []byte(input)})
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", r.FunctionARN, err)
	}
	res := &InvokeResult{Input: rawOrString(input), Payload: rawOrString(string(out.Body)),
		FunctionError: out.Header.Get("X-Amz-Function-Error"), StatusCode: int32(out.Status)}
	if t := out.Header.Get("X-Amz-Log-Result"); t != "" {
		if b, err := base64.StdEncoding.DecodeString(t); err == nil {
			res.LogTail = string(b)
		}
	}
	return res, nil
}

// RuleInput returns the input to send for rule: the configured job's input
// when rule is Prefix+job or a job name among want, else the live rule's
// function target input.
func (r *Rules) RuleInput(ctx context.Context, rule string, want []Scheduled, jobs []string) (string, error) {
	for _, j := range jobs {
		if rule == j || rule == r.RuleName(j) {
			return JobInput(j), nil
		}
	}
	live, err := r.describe(ctx, rule)
	if err != nil {
		return "", err
	}
	if len(live.Inputs) == 0 {
		return "", fmt.Errorf("rule %s does not target %s", rule, r.FunctionARN)
	}
	if live.Inputs[0] == "" {
		return "{}", nil // the rule sends the scheduled event itself; the function then runs from its environment
	}
	return live.Inputs[0], nil
}

// WithDryRun adds "dry_run": true to a JSON object input.
func WithDryRun(input string) (string, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(input), &m); err != nil {
		return "", fmt.Errorf("input %s is not a JSON object: %w", input, err)
	}
	if m == nil {
		m = map[string]any{}
	}
	m["dry_run"] = true
	b, err := json.Marshal(m)
	return string(b), err
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

func rawOrString(s string) json.RawMessage {
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}
