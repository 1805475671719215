// Package deploy produces what ghsync needs to run on AWS Lambda: a
// CloudFormation template derived from the configuration (function, least-
// privilege role, one EventBridge Scheduler schedule per scheduled job, S3
// event routing for inbox buckets, a public Function URL on which the function
// answers only webhook deliveries and /healthz, log group and dead-letter
// queue), and the `deploy schedules` verbs that manage
// EventBridge rules for an existing function (the original update_triggers.py).
package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/serve"
)

// Architectures accepted by Options.Arch.
const (
	ArchARM64 = "arm64"
	ArchX8664 = "x86_64"
)

// Options tunes the template.
type Options struct {
	// Arch is ArchARM64 (default) or ArchX8664.
	Arch string
	// ConfigURL is an s3://BUCKET/KEY the function loads its configuration
	// from (set as GHSYNC_CONFIG, read access granted); "" means the config
	// is packaged next to bootstrap as ghsync.yaml.
	ConfigURL string
	// LogRetentionDays is the default of the LogRetentionInDays parameter (30).
	LogRetentionDays int
}

// Template is a generated CloudFormation template.
type Template struct {
	// Doc is the template document.
	Doc M
	// Needs is the access derived from the configuration.
	Needs *Needs
	// Schedules are the scheduled jobs, one AWS::Scheduler::Schedule each.
	Schedules []Scheduled
	// Warnings are things the operator should know (also in the template's
	// Metadata).
	Warnings []string
}

var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Build generates the template for cfg. It fails on bad options and on
// schedules EventBridge cannot express.
func Build(cfg *config.Config, opts Options) (*Template, error) {
	if opts.Arch == "" {
		opts.Arch = ArchARM64
	}
	if opts.Arch != ArchARM64 && opts.Arch != ArchX8664 {
		return nil, fmt.Errorf("--arch %q: want arm64 or x86_64", opts.Arch)
	}
	if opts.LogRetentionDays == 0 {
		opts.LogRetentionDays = 30
	}
	if !containsInt(retentionDays, opts.LogRetentionDays) {
		return nil, fmt.Errorf("log retention %d days: CloudWatch Logs accepts %v", opts.LogRetentionDays, retentionDays)
	}
	if opts.ConfigURL != "" && !strings.HasPrefix(opts.ConfigURL, "s3://") {
		return nil, fmt.Errorf("config URL %q: want s3://BUCKET/KEY", opts.ConfigURL)
	}
	scheds, err := Schedules(cfg)
	if err != nil {
		return nil, err
	}
	needs := Derive(cfg, opts.ConfigURL)
	t := &Template{Needs: needs, Schedules: scheds, Warnings: append([]string(nil), needs.Warnings...)}
	hooks := webhooksOn(cfg)
	if hooks && (cfg.Database == "" || strings.HasPrefix(cfg.Database, "sqlite:")) {
		t.Warnings = append(t.Warnings, "webhooks use SQLite in /tmp on Lambda, which is lost when the execution environment is recycled: set database: postgres://… for durable deliveries")
	}

	res := M{}
	res = append(res,
		KV{"DeadLetterQueue", M{{"Type", "AWS::SQS::Queue"}, {"Properties", M{
			{"MessageRetentionPeriod", 1209600}, {"SqsManagedSseEnabled", true}}}}},
		KV{"LogGroup", M{{"Type", "AWS::Logs::LogGroup"}, {"DeletionPolicy", "Retain"}, {"UpdateReplacePolicy", "Retain"},
			{"Properties", M{{"RetentionInDays", Ref("LogRetentionInDays")}}}}},
		KV{"FunctionRole", M{{"Type", "AWS::IAM::Role"}, {"Properties", M{
			{"Description", "ghsync function: least privilege derived from the configuration"},
			{"AssumeRolePolicyDocument", assume("lambda.amazonaws.com")},
			{"Policies", []M{{{"PolicyName", "ghsync"}, {"PolicyDocument", functionPolicy(needs)}}}},
		}}}},
		KV{"Function", M{{"Type", "AWS::Lambda::Function"}, {"Properties", functionProps(opts)}}},
	)
	if len(scheds) > 0 {
		res = append(res, KV{"SchedulerRole", M{{"Type", "AWS::IAM::Role"}, {"Properties", M{
			{"Description", "EventBridge Scheduler: invoke the ghsync function"},
			{"AssumeRolePolicyDocument", assume("scheduler.amazonaws.com")},
			{"Policies", []M{{{"PolicyName", "invoke-ghsync"}, {"PolicyDocument", policyDoc(
				statement("Invoke", []string{"lambda:InvokeFunction"}, []any{GetAtt("Function", "Arn")}),
				statement("DeadLetterQueue", []string{"sqs:SendMessage"}, []any{GetAtt("DeadLetterQueue", "Arn")}),
			)}}}},
		}}}})
		ids := logicalIDs{}
		for _, s := range scheds {
			props := M{{"Description", "ghsync job " + s.Job}, {"ScheduleExpression", s.Expression}}
			if s.Timezone != "" {
				props = append(props, KV{"ScheduleExpressionTimezone", s.Timezone})
			}
			props = append(props, KV{"FlexibleTimeWindow", M{{"Mode", "OFF"}}}, KV{"State", "ENABLED"},
				KV{"Target", M{{"Arn", GetAtt("Function", "Arn")}, {"RoleArn", GetAtt("SchedulerRole", "Arn")},
					{"Input", s.Input}, {"RetryPolicy", M{{"MaximumRetryAttempts", 2}, {"MaximumEventAgeInSeconds", 3600}}},
					{"DeadLetterConfig", M{{"Arn", GetAtt("DeadLetterQueue", "Arn")}}}}})
			res = append(res, KV{ids.next("Schedule", s.Job), M{{"Type", "AWS::Scheduler::Schedule"}, {"Properties", props}}})
		}
	}
	ids := logicalIDs{}
	for _, w := range needs.Watched {
		detail := M{{"bucket", M{{"name", []string{w.Bucket}}}}}
		if w.Prefix != "" {
			detail = append(detail, KV{"object", M{{"key", []M{{{"prefix", w.Prefix}}}}}})
		}
		rule := ids.next("Inbox", w.Job)
		res = append(res,
			KV{rule, M{{"Type", "AWS::Events::Rule"}, {"Properties", M{
				{"Description", fmt.Sprintf("ghsync job %s: objects created in s3://%s/%s (the bucket must send events to EventBridge)", w.Job, w.Bucket, w.Prefix)},
				{"EventPattern", M{{"source", []string{"aws.s3"}}, {"detail-type", []string{"Object Created"}}, {"detail", detail}}},
				{"State", "ENABLED"},
				{"Targets", []M{{{"Id", "ghsync"}, {"Arn", GetAtt("Function", "Arn")},
					{"DeadLetterConfig", M{{"Arn", GetAtt("DeadLetterQueue", "Arn")}}}}}},
			}}}},
			KV{rule + "Permission", M{{"Type", "AWS::Lambda::Permission"}, {"Properties", M{
				{"Action", "lambda:InvokeFunction"}, {"FunctionName", Ref("Function")},
				{"Principal", "events.amazonaws.com"}, {"SourceArn", GetAtt(rule, "Arn")}}}}},
		)
		t.Warnings = append(t.Warnings, fmt.Sprintf("job %s: turn on EventBridge notifications for bucket %s (aws s3api put-bucket-notification-configuration --bucket %s --notification-configuration '{\"EventBridgeConfiguration\":{}}')", w.Job, w.Bucket, w.Bucket))
	}
	if len(needs.Watched) > 0 {
		res = append(res, KV{"DeadLetterQueuePolicy", M{{"Type", "AWS::SQS::QueuePolicy"}, {"Properties", M{
			{"Queues", []any{Ref("DeadLetterQueue")}},
			{"PolicyDocument", policyDoc(M{{"Sid", "EventBridgeDeadLetters"}, {"Effect", "Allow"},
				{"Principal", M{{"Service", "events.amazonaws.com"}}}, {"Action", "sqs:SendMessage"},
				{"Resource", GetAtt("DeadLetterQueue", "Arn")}})},
		}}}})
	}
	outputs := M{
		{"FunctionName", M{{"Value", Ref("Function")}}},
		{"FunctionArn", M{{"Value", GetAtt("Function", "Arn")}}},
		{"DeadLetterQueueUrl", M{{"Value", Ref("DeadLetterQueue")}}},
		{"LogGroupName", M{{"Value", Ref("LogGroup")}}},
	}
	if hooks {
		res = append(res,
			KV{"FunctionUrl", M{{"Type", "AWS::Lambda::Url"}, {"Properties", M{
				{"AuthType", "NONE"}, {"TargetFunctionArn", GetAtt("Function", "Arn")}}}}},
			KV{"FunctionUrlPermission", M{{"Type", "AWS::Lambda::Permission"}, {"Properties", M{
				{"Action", "lambda:InvokeFunctionUrl"}, {"FunctionName", Ref("Function")},
				{"Principal", "*"}, {"FunctionUrlAuthType", "NONE"}}}}},
			// Since October 2025 a public Function URL also needs lambda:InvokeFunction
			// granted for calls made through the URL.
			KV{"FunctionUrlInvokePermission", M{{"Type", "AWS::Lambda::Permission"}, {"Properties", M{
				{"Action", "lambda:InvokeFunction"}, {"FunctionName", Ref("Function")},
				{"Principal", "*"}, {"InvokedViaFunctionUrl", true}}}}},
		)
		// The URL is public (GitHub must reach it); the function answers on
		// it only the receivers' signed POSTs and GET /healthz, everything
		// else 404 (internal/lambda serveHTTP).
		rc := serve.ReceiversOf(cfg)
		outputs = append(outputs, KV{"WebhookUrl", M{
			{"Description", "Payload URL for the GitHub webhook (content type application/json). The Function URL is public and answers only signed webhook POSTs and GET /healthz; everything else is 404"},
			{"Value", M{{"Fn::Join", []any{"", []any{GetAtt("FunctionUrl", "FunctionUrl"), strings.TrimPrefix(rc.GitHubPath, "/")}}}}}}})
		if rc.CircleCI {
			outputs = append(outputs, KV{"CircleCIWebhookUrl", M{
				{"Description", "Receiver URL for CircleCI webhooks (signed with a webhooks.circleci.secrets entry)"},
				{"Value", M{{"Fn::Join", []any{"", []any{GetAtt("FunctionUrl", "FunctionUrl"), strings.TrimPrefix(serve.CircleCIPath, "/")}}}}}}})
		}
	}

	desc := "ghsync on AWS Lambda"
	if cfg.File != "" {
		desc += " for the jobs of " + cfg.File
	}
	t.Doc = M{
		{"AWSTemplateFormatVersion", "2010-09-09"},
		{"Description", desc},
	}
	if len(t.Warnings) > 0 {
		t.Doc = append(t.Doc, KV{"Metadata", M{{"GhsyncWarnings", t.Warnings}}})
	}
	t.Doc = append(t.Doc,
		KV{"Parameters", parameters(opts)},
		KV{"Resources", res},
		KV{"Outputs", outputs},
	)
	return t, nil
}

func parameters(opts Options) M {
	return M{
		{"CodeS3Bucket", M{{"Type", "String"}, {"MinLength", 3}, {"Description", "Bucket holding the function package (a zip with bootstrap and, optionally, ghsync.yaml)"}}},
		{"CodeS3Key", M{{"Type", "String"}, {"MinLength", 1}, {"Description", "Key of the function package, e.g. ghsync/ghsync-lambda-arm64.zip"}}},
		{"MemorySize", M{{"Type", "Number"}, {"Default", 512}, {"MinValue", 128}, {"MaxValue", 10240}}},
		{"Timeout", M{{"Type", "Number"}, {"Default", 300}, {"MinValue", 1}, {"MaxValue", 900}, {"Description", "Seconds; a repo sync must finish within it"}}},
		{"LogRetentionInDays", M{{"Type", "Number"}, {"Default", opts.LogRetentionDays}, {"AllowedValues", retentionDays}}},
	}
}

func functionProps(opts Options) M {
	p := M{
		{"Description", "ghsync: GitHub ⇄ object storage jobs"},
		{"Runtime", "provided.al2023"},
		{"Handler", "bootstrap"},
		{"Architectures", []string{opts.Arch}},
		{"Code", M{{"S3Bucket", Ref("CodeS3Bucket")}, {"S3Key", Ref("CodeS3Key")}}},
		{"Role", GetAtt("FunctionRole", "Arn")},
		{"MemorySize", Ref("MemorySize")},
		{"Timeout", Ref("Timeout")},
		{"DeadLetterConfig", M{{"TargetArn", GetAtt("DeadLetterQueue", "Arn")}}},
		{"LoggingConfig", M{{"LogGroup", Ref("LogGroup")}, {"LogFormat", "JSON"}}},
	}
	if opts.ConfigURL != "" {
		p = append(p, KV{"Environment", M{{"Variables", M{{"GHSYNC_CONFIG", opts.ConfigURL}}}}})
	}
	return p
}

// functionPolicy is the function role's policy: logs, the dead-letter queue,
// the configured buckets and prefixes, and the referenced secrets.
func functionPolicy(n *Needs) M {
	st := []M{
		statement("Logs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, []any{GetAtt("LogGroup", "Arn")}),
		statement("DeadLetterQueue", []string{"sqs:SendMessage"}, []any{GetAtt("DeadLetterQueue", "Arn")}),
	}
	st = append(st, bucketStatements(n.Buckets)...)
	if d := n.Dynamo; d != nil {
		// The mirror's only call is a conditional PutItem (the ordering
		// guard is its ConditionExpression), on the PREFIX tables only;
		// DynamoDB-only projections also set job log classifications on
		// existing items with a conditional UpdateItem.
		region := "${AWS::Region}"
		if d.Region != "" {
			region = d.Region
		}
		actions := []string{"dynamodb:PutItem"}
		if d.Only {
			actions = append(actions, "dynamodb:UpdateItem")
		}
		st = append(st, statement("DynamoDBMirror", actions,
			[]any{Sub("arn:${AWS::Partition}:dynamodb:" + region + ":${AWS::AccountId}:table/" + subEscape(d.TablePrefix) + "*")}))
	}
	if len(n.Secrets) > 0 {
		var arns []any
		for _, s := range n.Secrets {
			if strings.HasPrefix(s, "arn:") {
				arns = append(arns, s)
			} else {
				arns = append(arns, Sub("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"+subEscape(s)+"-*"))
			}
		}
		st = append(st, statement("Secrets", []string{"secretsmanager:GetSecretValue"}, arns))
	}
	if len(n.Parameters) > 0 {
		var arns []any
		for _, p := range n.Parameters {
			arns = append(arns, Sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/"+subEscape(p)))
		}
		st = append(st, statement("Parameters", []string{"ssm:GetParameter"}, arns))
	}
	if len(n.Distributions) > 0 {
		sortStrings(n.Distributions)
		var arns []any
		for _, d := range n.Distributions {
			arns = append(arns, Sub("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"+subEscape(d)))
		}
		st = append(st, statement("CloudFrontInvalidation", []string{"cloudfront:CreateInvalidation"}, arns))
	}
	if len(n.Actions) > 0 {
		sortStrings(n.Actions)
		st = append(st, statement("JobActions", n.Actions, []any{"*"}))
	}
	return policyDoc(st...)
}

// bucketStatements grants ListBucket limited to the used prefixes, and object
// access on exactly those prefixes.
func bucketStatements(buckets []BucketAccess) []M {
	var st []M
	for i, b := range buckets {
		bucketARN := Sub("arn:${AWS::Partition}:s3:::" + b.Bucket)
		list := statement(fmt.Sprintf("List%d", i), []string{"s3:ListBucket"}, []any{bucketARN})
		var prefixes []string
		whole := false
		var rw, ro []any
		for _, p := range sortedKeys(b.Prefixes) {
			whole = whole || p == ""
			if p != "" {
				prefixes = append(prefixes, p+"*")
			}
			arn := Sub("arn:${AWS::Partition}:s3:::" + b.Bucket + "/" + subEscape(p) + "*")
			if b.Prefixes[p] == AccessReadWrite {
				rw = append(rw, arn)
			} else {
				ro = append(ro, arn)
			}
		}
		if !whole {
			list = append(list, KV{"Condition", M{{"StringLike", M{{"s3:prefix", prefixes}}}}})
		}
		st = append(st, list)
		if len(rw) > 0 {
			st = append(st, statement(fmt.Sprintf("ReadWrite%d", i), []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}, rw))
		}
		if len(ro) > 0 {
			st = append(st, statement(fmt.Sprintf("Read%d", i), []string{"s3:GetObject"}, ro))
		}
	}
	return st
}

func statement(sid string, actions []string, resources []any) M {
	return M{{"Sid", sid}, {"Effect", "Allow"}, {"Action", actions}, {"Resource", resources}}
}

func policyDoc(statements ...M) M {
	return M{{"Version", "2012-10-17"}, {"Statement", statements}}
}

func assume(service string) M {
	return policyDoc(M{{"Effect", "Allow"}, {"Principal", M{{"Service", service}}}, {"Action", "sts:AssumeRole"}})
}

// subEscape protects literal text inside Fn::Sub ("${" starts a variable).
func subEscape(s string) string { return strings.ReplaceAll(s, "${", "${!") }

// logicalIDs makes unique alphanumeric logical IDs from job names.
type logicalIDs map[string]bool

var nonAlnum = regexp.MustCompile(`[^A-Za-z0-9]+`)

func (l logicalIDs) next(prefix, name string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, part := range nonAlnum.Split(name, -1) {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	id := b.String()
	for i := 2; l[id]; i++ {
		id = fmt.Sprintf("%s%d", b.String(), i)
	}
	l[id] = true
	return id
}

// YAML renders the template as YAML.
func (t *Template) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(t.Doc); err != nil {
		return nil, fmt.Errorf("render template: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render template: %w", err)
	}
	return buf.Bytes(), nil
}

// JSON renders the template as indented JSON.
func (t *Template) JSON() ([]byte, error) {
	raw, err := json.Marshal(t.Doc)
	if err != nil {
		return nil, fmt.Errorf("render template: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("render template: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}
