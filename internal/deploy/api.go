package deploy

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/ghsync/ghsync/internal/awsapi"
)

// The services `deploy schedules` calls through awsapi (no SDK service
// client in the binary): EventBridge speaks JSON 1.1 with targets
// "AWSEvents.<Operation>", Lambda REST-JSON under /2015-03-31/functions/.
var (
	eventsService = awsapi.Service{Name: "EventBridge", SigningName: "events", SDKID: "EventBridge", Host: "events"}
	lambdaService = awsapi.Service{Name: "Lambda", SigningName: "lambda", SDKID: "Lambda", Host: "lambda"}
)

// lambdaAPIVersion starts every Lambda operation's path.
const lambdaAPIVersion = "/2015-03-31"

// eventsCall calls EventBridge operation op ("PutRule").
func eventsCall(ctx context.Context, c *awsapi.Client, op string, in, out any) error {
	return c.CallJSON(ctx, "AWSEvents."+op, in, out)
}

// The EventBridge request and response shapes ghsync uses (the API's JSON
// member names).
type (
	ebTarget struct {
		ID    string `json:"Id"`
		Arn   string `json:"Arn"`
		Input string `json:"Input,omitempty"`
	}
	ebFailedEntries struct {
		FailedEntryCount int
		FailedEntries    []struct{ TargetId, ErrorCode, ErrorMessage string }
	}
)

// failed returns an error for the first failed entry of a PutTargets or
// RemoveTargets answer, or nil.
func (f ebFailedEntries) failed() error {
	if f.FailedEntryCount == 0 {
		return nil
	}
	if len(f.FailedEntries) == 0 {
		return fmt.Errorf("%d entries failed", f.FailedEntryCount)
	}
	e := f.FailedEntries[0]
	return fmt.Errorf("target %s: %s: %s", e.TargetId, e.ErrorCode, e.ErrorMessage)
}

// functionPath is the escaped path of a Lambda function's sub-resource
// (name or ARN; the ARN's colons are escaped as the SDK does).
func functionPath(function, sub string) string {
	return lambdaAPIVersion + "/functions/" + escapeSegment(function) + "/" + sub
}

// escapeSegment escapes one path segment, ':' included (as the SDK does).
func escapeSegment(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
}
