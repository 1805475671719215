package awsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// CallJSON calls an AWS JSON 1.1 operation (target "AmazonSSM.GetParameter"):
// in is encoded as the request body, the response decoded into out.
func (c *Client) CallJSON(ctx context.Context, target string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s %s: encode request: %w", c.service.Name, target, err)
	}
	resp, err := c.Do(ctx, Request{Method: http.MethodPost, Path: "/", Body: body, Header: http.Header{
		"Content-Type": {"application/x-amz-json-1.1"},
		"X-Amz-Target": {target},
	}})
	if err != nil {
		return fmt.Errorf("%s %s: %w", c.service.Name, target, err)
	}
	if err := json.Unmarshal(resp, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", c.service.Name, target, err)
	}
	return nil
}
