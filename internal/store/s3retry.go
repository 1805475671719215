package store

import (
	"errors"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
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

// retryCutAnswer is a per-operation option for the idempotent S3 requests
// whose answer body the SDK reads itself (a listing page, a batch delete):
// an answer cut while its body arrived (a smithy.DeserializationError with
// io.ErrUnexpectedEOF; a reset is retried by the SDK already) is retried by
// the SDK's retryer like a dropped connection. Sending such a request again
// is harmless: a listing only reads, and a key deleted twice is no error.
// Never for writes: the store may have acted, and a second conditional
// write would meet its own first one.
func retryCutAnswer(o *s3.Options) {
	if r, ok := o.Retryer.(aws.RetryerV2); ok {
		o.Retryer = cutAnswerRetryer{r}
	}
}

// cutAnswerRetryer adds cut answers to the retryable failures of the
// retryer it wraps (see retryCutAnswer).
type cutAnswerRetryer struct{ aws.RetryerV2 }

// IsErrorRetryable reports true for a cut answer, and otherwise what the
// wrapped retryer reports.
func (r cutAnswerRetryer) IsErrorRetryable(err error) bool {
	var de *smithy.DeserializationError
	if errors.As(err, &de) && errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	return r.RetryerV2.IsErrorRetryable(err)
}
