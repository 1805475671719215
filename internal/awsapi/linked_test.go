package awsapi_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The release binary calls Parameter Store, Secrets Manager, CloudFront,
// EventBridge, Lambda, DynamoDB and SES v2 through this package: none of their SDK clients
// (nor gocloud's runtimevar, which brought two) is linked into cmd/ghsync
// (issue 17, item 4).
func TestServiceClientsNotLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "github.com/ghsync/ghsync/cmd/ghsync").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{
			"github.com/aws/aws-sdk-go-v2/service/ssm", "github.com/aws/aws-sdk-go-v2/service/secretsmanager",
			"github.com/aws/aws-sdk-go-v2/service/cloudfront", "gocloud.dev/runtimevar",
			"github.com/aws/aws-sdk-go-v2/service/eventbridge", "github.com/aws/aws-sdk-go-v2/service/lambda",
			"github.com/aws/aws-sdk-go-v2/service/dynamodb", "github.com/aws/aws-sdk-go-v2/service/sesv2",
		} {
			if pkg == banned || strings.HasPrefix(pkg, banned+"/") {
				t.Errorf("cmd/ghsync links %s", pkg)
			}
		}
	}
}
