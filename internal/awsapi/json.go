package awsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// CallJSON calls an operation of the AWS JSON protocol (target
// "AmazonSSM.GetParameter"; version 1.1, or the service's JSONVersion): in
// is encoded as the request body, the response decoded into out (nil
// discards it).
func (c *Client) CallJSON(ctx context.Context, target string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s %s: encode request: %w", c.service.Name, target, err)
	}
	resp, err := c.Do(ctx, Request{Method: http.MethodPost, Path: "/", Body: body, Header: http.Header{
		"Content-Type": {"application/x-amz-json-" + c.service.jsonVersion()},
		"X-Amz-Target": {target},
	}})
	if err != nil {
		return fmt.Errorf("%s %s: %w", c.service.Name, target, err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", c.service.Name, target, err)
	}
	return nil
}

// CallRESTJSON calls an operation of the AWS REST-JSON protocol (Lambda):
// path is the escaped operation path, in (when not nil) the JSON body. It
// returns the response, whose headers carry some results; the caller decodes
// the body.
func (c *Client) CallRESTJSON(ctx context.Context, method, path string, header http.Header, in any) (*Response, error) {
	req := Request{Method: method, Path: path, Header: http.Header{}}
	for k, v := range header {
		req.Header[k] = v
	}
	if in != nil {
		body, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("%s %s %s: encode request: %w", c.service.Name, method, path, err)
		}
		req.Body = body
		req.Header.Set("Content-Type", "application/json")
	}
	return c.Send(ctx, req)
}
