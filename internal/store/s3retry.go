package store

import (
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// tooManyRequests classifies an S3 answer of HTTP 429 as a throttle to
// retry, whatever its error code. The SDK's standard retryer knows 429 only
// by the code in the body (SlowDown, TooManyRequestsException, …), so it
// took for final a 429 whose code it does not list: every HeadObject 429
// (a HEAD answer has no body; the SDK names it after the status,
// "TooManyRequests") and a PutObject or UploadPart 429 with another code
// (a proxy's or an S3-compatible server's, e.g. "InternalError"). A 429 is
// never the store's answer to the request, only "not now": retrying it
// hides nothing. It serves as both a retry.IsErrorRetryable and a
// retry.IsErrorThrottle (which sets a throttle's retry cost and pause).
type tooManyRequests struct{}

// IsErrorRetryable reports true for a 429 answer, unknown otherwise.
func (tooManyRequests) IsErrorRetryable(err error) aws.Ternary { return is429(err) }

// IsErrorThrottle reports true for a 429 answer, unknown otherwise.
func (tooManyRequests) IsErrorThrottle(err error) aws.Ternary { return is429(err) }

func is429(err error) aws.Ternary {
	var st interface{ HTTPStatusCode() int }
	if errors.As(err, &st) && st.HTTPStatusCode() == http.StatusTooManyRequests {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}
