// Package dynamotest builds a dynamo.Writer from an AWS SDK DynamoDB client,
// for tests that seed and inspect tables with the SDK (test code only: the
// binary has no SDK DynamoDB client).
package dynamotest

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ghsync/ghsync/internal/awsapi"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo"
)

// New returns a Writer with table name prefix that calls the endpoint of
// client with its region, credentials, HTTP client and retry attempts.
func New(client *dynamodb.Client, prefix string) (*dynamo.Writer, error) {
	if client == nil {
		return nil, fmt.Errorf("dynamotest: nil client")
	}
	o := client.Options()
	cfg := aws.Config{Region: o.Region, Credentials: o.Credentials, HTTPClient: o.HTTPClient, RetryMaxAttempts: o.RetryMaxAttempts}
	c, err := awsapi.New(context.Background(), cfg, dynamo.Service, aws.ToString(o.BaseEndpoint))
	if err != nil {
		return nil, err
	}
	return dynamo.New(c, prefix)
}
