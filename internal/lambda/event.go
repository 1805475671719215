package lambda

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Shape is the kind of event a Lambda invocation carries.
type Shape string

// Event shapes recognised by Classify.
const (
	// ShapeJob is {"job": "NAME", "dry_run": bool}: a direct invoke, an
	// EventBridge Scheduler input, or an EventBridge rule's constant input.
	ShapeJob Shape = "job"
	// ShapeLegacyStatuses is the original status Lambda's constant input
	// {"branches": "…", "user": "…", "repo": "…", "history_size": N}, an
	// empty object, or a scheduled EventBridge event without input (the
	// original then ran from its environment).
	ShapeLegacyStatuses Shape = "legacy-statuses"
	// ShapeS3 is an S3 notification, SQS messages wrapping S3 notifications,
	// or an EventBridge "Object Created" event from S3.
	ShapeS3 Shape = "s3"
	// ShapeHTTP is a Function URL or API Gateway HTTP API (payload 2.0) request.
	ShapeHTTP Shape = "http"
)

// Event is a classified invocation payload.
type Event struct {
	// Shape is what the payload is.
	Shape Shape
	// Job and DryRun are set for ShapeJob.
	Job    string
	DryRun bool
	// Input is the JSON object holding the job or legacy fields (the payload
	// itself, or an EventBridge event's detail).
	Input json.RawMessage
	// Objects are the S3 objects of a ShapeS3 event, in event order, keys decoded.
	Objects []S3Object
	// Via says how the event arrived: "direct", "eventbridge", "s3", "sqs",
	// "function-url/http-api".
	Via string
}

// S3Object is one object named by an S3 event.
type S3Object struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Size   int64  `json:"size,omitempty"`
	ETag   string `json:"etag,omitempty"`
}

// s3Entity is the bucket and object of an S3 notification record ("s3")
// and of an EventBridge S3 event ("detail"); JSON field names match
// case-insensitively, so "eTag" (notifications) and "etag" (EventBridge)
// both fill ETag.
type s3Entity struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key  string `json:"key"`
		Size int64  `json:"size"`
		ETag string `json:"eTag"`
	} `json:"object"`
}

// object returns the S3Object the entity names, with key as given.
func (e *s3Entity) object(key string) S3Object {
	return S3Object{Bucket: e.Bucket.Name, Key: key, Size: e.Object.Size, ETag: e.Object.ETag}
}

// legacyKeys are the original status Lambda's input fields.
var legacyKeys = []string{"branches", "user", "repo", "history_size"}

// Classify decides what an invocation payload is. It fails on payloads that
// are not JSON objects and on shapes ghsync does not handle, naming the keys
// it saw.
func Classify(payload []byte) (*Event, error) {
	obj, err := object(payload)
	if err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	switch {
	case has(obj, "Records"):
		return classifyRecords(obj["Records"])
	case has(obj, "requestContext") && (has(obj, "rawPath") || has(obj, "routeKey")):
		return &Event{Shape: ShapeHTTP, Input: payload, Via: "function-url/http-api"}, nil
	case has(obj, "requestContext") && has(obj, "httpMethod"):
		return nil, fmt.Errorf("event: API Gateway REST (payload format 1.0) requests are not supported; use a Function URL or an HTTP API with payload format 2.0")
	case has(obj, "detail-type") && has(obj, "source"):
		return classifyEventBridge(obj)
	}
	return classifyInput(payload, obj, "direct")
}

// classifyInput handles a job or legacy input object.
func classifyInput(raw json.RawMessage, obj map[string]json.RawMessage, via string) (*Event, error) {
	if has(obj, "job") {
		var in struct {
			Job    string `json:"job"`
			DryRun bool   `json:"dry_run"`
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, fmt.Errorf("event: job input: %w", err)
		}
		if in.Job == "" {
			return nil, fmt.Errorf(`event: "job" must name a configured job`)
		}
		return &Event{Shape: ShapeJob, Job: in.Job, DryRun: in.DryRun, Input: raw, Via: via}, nil
	}
	legacy := len(obj) == 0
	for _, k := range legacyKeys {
		legacy = legacy || has(obj, k)
	}
	if legacy {
		var dry struct {
			DryRun bool `json:"dry_run"`
		}
		_ = json.Unmarshal(raw, &dry)
		return &Event{Shape: ShapeLegacyStatuses, DryRun: dry.DryRun, Input: raw, Via: via}, nil
	}
	return nil, fmt.Errorf(`event: unrecognised shape (keys: %s); want {"job": "NAME"}, the status Lambda's input, an S3/SQS/EventBridge event or an HTTP request`, keyList(obj))
}

// classifyEventBridge handles an EventBridge event: S3 "Object Created", or a
// detail carrying a job or legacy input.
func classifyEventBridge(obj map[string]json.RawMessage) (*Event, error) {
	var src string
	_ = json.Unmarshal(obj["source"], &src)
	if src == "aws.s3" {
		var d s3Entity
		if err := json.Unmarshal(obj["detail"], &d); err != nil || d.Bucket.Name == "" {
			return nil, fmt.Errorf("event: EventBridge S3 event without detail.bucket.name")
		}
		return &Event{Shape: ShapeS3, Objects: []S3Object{d.object(d.Object.Key)}, Via: "eventbridge"}, nil
	}
	detail := obj["detail"]
	if len(bytes.TrimSpace(detail)) == 0 || string(bytes.TrimSpace(detail)) == "null" {
		detail = json.RawMessage("{}")
	}
	dobj, err := object(detail)
	if err != nil {
		return nil, fmt.Errorf("event: EventBridge detail: %w", err)
	}
	return classifyInput(detail, dobj, "eventbridge")
}

// classifyRecords handles S3 notifications and SQS batches of them.
func classifyRecords(raw json.RawMessage) (*Event, error) {
	var recs []struct {
		EventSource string   `json:"eventSource"`
		S3          s3Entity `json:"s3"`
		Body        string   `json:"body"`
	}
	if err := json.Unmarshal(raw, &recs); err != nil {
		return nil, fmt.Errorf("event: Records: %w", err)
	}
	ev := &Event{Shape: ShapeS3, Via: "s3"}
	for i, r := range recs {
		switch r.EventSource {
		case "aws:s3":
			key, err := url.QueryUnescape(r.S3.Object.Key) // S3 keys arrive form-encoded ("+" for space)
			if err != nil {
				return nil, fmt.Errorf("event: Records[%d]: key %q: %w", i, r.S3.Object.Key, err)
			}
			ev.Objects = append(ev.Objects, r.S3.object(key))
		case "aws:sqs":
			ev.Via = "sqs"
			inner, err := object([]byte(r.Body))
			if err != nil {
				return nil, fmt.Errorf("event: Records[%d]: SQS body is not an S3 event: %w", i, err)
			}
			if has(inner, "Event") && !has(inner, "Records") {
				continue // s3:TestEvent sent when a notification is configured
			}
			sub, err := classifyRecords(inner["Records"])
			if err != nil {
				return nil, fmt.Errorf("event: Records[%d] (SQS body): %w", i, err)
			}
			ev.Objects = append(ev.Objects, sub.Objects...)
		default:
			return nil, fmt.Errorf("event: Records[%d]: unsupported eventSource %q (want aws:s3 or aws:sqs)", i, r.EventSource)
		}
	}
	return ev, nil
}

func object(data []byte) (map[string]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return map[string]json.RawMessage{}, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if obj == nil {
		obj = map[string]json.RawMessage{}
	}
	return obj, nil
}

func has(obj map[string]json.RawMessage, k string) bool {
	_, ok := obj[k]
	return ok
}

func keyList(obj map[string]json.RawMessage) string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 10 {
		keys = append(keys[:10], "…")
	}
	return strings.Join(keys, ", ")
}
