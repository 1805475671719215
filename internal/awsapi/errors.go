package awsapi

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
)

// APIError is an AWS error response. It implements smithy.APIError and
// HTTPStatusCode, so the SDK's retryer classifies it (throttling codes,
// 5xx) and callers can errors.As it like an SDK client's error.
type APIError struct {
	Status    int
	Code      string
	Message   string
	RequestID string
}

var _ smithy.APIError = (*APIError)(nil)

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// ErrorCode is AWS's error code ("ParameterNotFound").
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage is AWS's message.
func (e *APIError) ErrorMessage() string { return e.Message }

// ErrorFault says whose fault the error is: the server's for 5xx.
func (e *APIError) ErrorFault() smithy.ErrorFault {
	switch {
	case e.Status >= 500:
		return smithy.FaultServer
	case e.Status >= 400:
		return smithy.FaultClient
	}
	return smithy.FaultUnknown
}

// HTTPStatusCode is the response status (read by the SDK's retryer).
func (e *APIError) HTTPStatusCode() int { return e.Status }

// parseError reads an error response in the JSON protocols' shape
// ({"__type": …, "message": …}) or the XML protocols' (<Error><Code>…).
func parseError(resp *http.Response, body []byte) *APIError {
	e := &APIError{Status: resp.StatusCode, Code: trimType(resp.Header.Get("X-Amzn-Errortype"))}
	for _, h := range []string{"X-Amzn-Requestid", "X-Amz-Request-Id"} {
		if v := resp.Header.Get(h); v != "" {
			e.RequestID = v
			break
		}
	}
	trimmed := strings.TrimSpace(string(body))
	switch {
	case strings.HasPrefix(trimmed, "{"):
		var j struct {
			Type     string `json:"__type"`
			Code     string `json:"code"`
			Message  string `json:"message"`
			MessageU string `json:"Message"`
		}
		if json.Unmarshal(body, &j) == nil {
			e.Code = firstNonEmpty(e.Code, trimType(j.Type), j.Code)
			e.Message = firstNonEmpty(j.Message, j.MessageU)
		}
	case strings.HasPrefix(trimmed, "<"):
		var x struct {
			Code      string `xml:"Error>Code"`
			Message   string `xml:"Error>Message"`
			RequestID string `xml:"RequestId"`
		}
		if xml.Unmarshal(body, &x) == nil {
			e.Code = firstNonEmpty(e.Code, x.Code)
			e.Message = x.Message
			e.RequestID = firstNonEmpty(e.RequestID, x.RequestID)
		}
	}
	if e.Code == "" && e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// ErrorCode returns the AWS error code of err ("ResourceNotFoundException"),
// from an *APIError or any SDK error in its chain, or "" when it has none.
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
