package mototest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// DynamoClient returns a DynamoDB client for a moto_server (or a proxy in
// front of one) at endpoint: region us-east-1, test credentials, then
// optFns (e.g. one attempt per request).
func DynamoClient(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}, optFns...)
}

// StartDynamoDB starts moto_server (Start: skipped loudly without it,
// untested saying what), points the AWS SDK's standard environment at it
// (AWS_ENDPOINT_URL_DYNAMODB and test credentials, for code that builds its
// own client, as serve and the Lambda do) and returns its endpoint and a
// client for it.
func StartDynamoDB(t testing.TB, untested string) (string, *dynamodb.Client) {
	t.Helper()
	endpoint := Start(t, untested)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	return endpoint, DynamoClient(endpoint)
}
