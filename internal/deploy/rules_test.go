package deploy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/ghsync/ghsync/internal/awsapi"
	"github.com/ghsync/ghsync/internal/testkit/mototest"
)

// EnvRequireMoto makes a missing moto_server a test failure (CI sets it).
const EnvRequireMoto = "GHSYNC_REQUIRE_MOTO"

// fakeLambda implements the Lambda Invoke and AddPermission APIs.
type fakeLambda struct {
	mu       sync.Mutex
	invokes  []string // payloads
	policies map[string]string
}

func (f *fakeLambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/invocations") && strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/"):
		f.invokes = append(f.invokes, string(body))
		if r.Header.Get("X-Amz-Invocation-Type") != "RequestResponse" {
			http.Error(w, "want RequestResponse", http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString([]byte("START RequestId: 1\nEND RequestId: 1\n")))
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		if strings.Contains(string(body), "nope") {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_, _ = io.WriteString(w, `{"errorMessage":"job nope: no job named \"nope\"","errorType":"ConfigError"}`)
			return
		}
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		out, _ := json.Marshal(map[string]any{"job": in["job"], "dry_run": in["dry_run"] == true, "changed": false})
		_, _ = w.Write(out)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/policy"):
		var in struct{ StatementId, SourceArn, Principal, Action string }
		_ = json.Unmarshal(body, &in)
		if _, dup := f.policies[in.StatementId]; dup {
			w.Header().Set("X-Amzn-Errortype", "ResourceConflictException")
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `{"Type":"User","message":"The statement id provided already exists."}`)
			return
		}
		f.policies[in.StatementId] = in.Principal + " " + in.Action + " " + in.SourceArn
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"Statement":"{}"}`)
	default:
		http.Error(w, "not implemented: "+r.Method+" "+r.URL.Path, http.StatusNotFound)
	}
}

func TestRulesAgainstMoto(t *testing.T) {
	moto := mototest.Start(t, "EventBridge rules are not tested")
	fl := &fakeLambda{policies: map[string]string{}}
	lsrv := httptest.NewServer(fl)
	defer lsrv.Close()
	testAWSEnv(t)
	ctx := context.Background()
	r, err := NewRules(ctx, "ghsync", ClientOptions{EventsEndpoint: moto, STSEndpoint: moto, LambdaEndpoint: lsrv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if r.FunctionARN != "arn:aws:lambda:us-east-1:123456789012:function:ghsync" {
		t.Fatalf("function ARN %s", r.FunctionARN)
	}
	// The SDK's client seeds and inspects moto (test code: not in the binary).
	ev := eventbridge.New(eventbridge.Options{Region: "us-east-1", BaseEndpoint: aws.String(moto),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
	put := func(name, schedule string, targets ...ebtypes.Target) {
		t.Helper()
		if _, err := ev.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), ScheduleExpression: aws.String(schedule)}); err != nil {
			t.Fatal(err)
		}
		if _, err := ev.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: targets}); err != nil {
			t.Fatal(err)
		}
	}
	fn := r.FunctionARN
	legacyInput := `{"branches": "main,release/2.0", "user": "acme", "repo": "app", "history_size": 100}`
	put("sync-acme-app", "rate(1 minute)", ebtypes.Target{Id: aws.String("1"), Arn: aws.String(fn), Input: aws.String(legacyInput)})
	put("shared", "rate(1 hour)", ebtypes.Target{Id: aws.String("fn"), Arn: aws.String(fn), Input: aws.String(`{"job":"x"}`)},
		ebtypes.Target{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:123456789012:other")})
	put("ghsync-site", "rate(2 minutes)", ebtypes.Target{Id: aws.String("ghsync"), Arn: aws.String(fn), Input: aws.String(`{"job":"site"}`)})
	put("unrelated", "rate(1 day)", ebtypes.Target{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:123456789012:other")})

	rules, err := r.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := ruleNames(rules); got != "ghsync-site,shared,sync-acme-app" {
		t.Fatalf("rules targeting the function: %s", got)
	}
	if rules[2].Inputs[0] != legacyInput || rules[2].Schedule != "rate(1 minute)" || rules[1].OtherTargets != 1 {
		t.Errorf("rule details %+v", rules)
	}

	want := []Scheduled{
		{Job: "site", Expression: "rate(5 minutes)", Input: JobInput("site")},
		{Job: "hud", Expression: "rate(1 minute)", Input: JobInput("hud")},
	}
	plan, err := r.Plan(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if got := planText(plan); got != "ghsync-site:update ghsync-hud:create shared:remove-target sync-acme-app:delete" {
		t.Fatalf("plan %s", got)
	}
	if err := r.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	rules, err = r.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := ruleNames(rules); got != "ghsync-hud,ghsync-site" {
		t.Fatalf("after update: %s", got)
	}
	for _, rl := range rules {
		job := strings.TrimPrefix(rl.Name, "ghsync-")
		if len(rl.Inputs) != 1 || rl.Inputs[0] != JobInput(job) || rl.State != "ENABLED" {
			t.Errorf("rule %+v", rl)
		}
	}
	if rules[1].Schedule != "rate(5 minutes)" {
		t.Errorf("ghsync-site schedule %s", rules[1].Schedule)
	}
	if _, err := ev.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("shared")}); err != nil {
		t.Errorf("rule with another target was deleted: %v", err)
	}
	if _, err := ev.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("unrelated")}); err != nil {
		t.Errorf("unrelated rule touched: %v", err)
	}
	if p := fl.policies["ghsync-rule-ghsync-hud"]; !strings.HasPrefix(p, "events.amazonaws.com lambda:InvokeFunction arn:aws:events:") {
		t.Errorf("permission for ghsync-hud: %q (all: %v)", p, fl.policies)
	}
	plan, err = r.Plan(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if got := planText(plan); got != "ghsync-site:unchanged ghsync-hud:unchanged" {
		t.Errorf("second plan %s", got)
	}
	if err := r.Apply(ctx, plan); err != nil {
		t.Errorf("applying an unchanged plan: %v", err)
	}
	if _, err := r.Plan(ctx, []Scheduled{{Job: "tz", Expression: "cron(0 9 * * ? *)", Timezone: "Europe/London"}}); err == nil || !strings.Contains(err.Error(), "UTC") {
		t.Errorf("timezone: %v", err)
	}

	// invoke: configured rule, live rule, failing function.
	in, err := r.RuleInput(ctx, "ghsync-site", want, []string{"site", "hud"})
	if err != nil || in != `{"job":"site"}` {
		t.Fatalf("input of ghsync-site: %q %v", in, err)
	}
	put("legacy-live", "rate(1 hour)", ebtypes.Target{Id: aws.String("1"), Arn: aws.String(fn), Input: aws.String(legacyInput)})
	if in, err := r.RuleInput(ctx, "legacy-live", want, []string{"site", "hud"}); err != nil || in != legacyInput {
		t.Errorf("input of legacy-live: %q %v", in, err)
	}
	if _, err := r.RuleInput(ctx, "unrelated", want, nil); err == nil {
		t.Errorf("rule not targeting the function: no error")
	}
	dry, _ := WithDryRun(in)
	res, err := r.Invoke(ctx, dry)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Payload) != `{"changed":false,"dry_run":true,"job":"site"}` || res.FunctionError != "" || !strings.Contains(res.LogTail, "END RequestId") {
		t.Errorf("invoke result %+v payload %s", res, res.Payload)
	}
	if fl.invokes[len(fl.invokes)-1] != `{"dry_run":true,"job":"site"}` {
		t.Errorf("sent %s", fl.invokes[len(fl.invokes)-1])
	}
	res, err = r.Invoke(ctx, `{"job":"nope"}`)
	if err != nil || res.FunctionError != "Unhandled" || !strings.Contains(string(res.Payload), "ConfigError") {
		t.Errorf("failing invoke: %+v %v", res, err)
	}
}

// testAWSEnv gives the SDK's default chain test credentials and region, and
// no shared files.
func testAWSEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
}

func ruleNames(rules []Rule) string {
	var names []string
	for _, r := range rules {
		names = append(names, r.Name)
	}
	return strings.Join(names, ",")
}

func planText(plan []Change) string {
	var parts []string
	for _, c := range plan {
		parts = append(parts, c.Rule+":"+c.Action)
	}
	return strings.Join(parts, " ")
}

// A missing rule and a missing function surface AWS's error code through
// the awsapi calls (moto's EventBridge and Lambda), and the rule listing of
// a function no rule targets is empty, not an error.
func TestRulesMissingAgainstMoto(t *testing.T) {
	moto := mototest.Start(t, "EventBridge/Lambda error codes are not tested")
	testAWSEnv(t)
	ctx := context.Background()
	r, err := NewRules(ctx, "absent", ClientOptions{EventsEndpoint: moto, STSEndpoint: moto, LambdaEndpoint: moto})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := r.List(ctx)
	if err != nil || len(rules) != 0 {
		t.Errorf("rules of a function nothing targets: %v, %v", rules, err)
	}
	_, err = r.RuleInput(ctx, "no-such-rule", nil, nil)
	if code := awsapi.ErrorCode(err); code != "ResourceNotFoundException" || !strings.Contains(err.Error(), "describe rule no-such-rule") {
		t.Errorf("missing rule: code %q, error %v", code, err)
	}
	_, err = r.Invoke(ctx, `{"job":"x"}`)
	if code := awsapi.ErrorCode(err); code != "ResourceNotFoundException" || !strings.Contains(err.Error(), "invoke "+r.FunctionARN) {
		t.Errorf("missing function: code %q, error %v", code, err)
	}
	err = r.Apply(ctx, []Change{{Rule: "ghsync-x", Job: "x", Action: "create", Schedule: "rate(1 hour)", Input: JobInput("x")}})
	if code := awsapi.ErrorCode(err); code != "ResourceNotFoundException" || !strings.Contains(err.Error(), "allow rule ghsync-x to invoke") {
		t.Errorf("permission on a missing function: code %q, error %v", code, err)
	}
}
