package deps
import (
 _ "gocloud.dev/blob/s3blob"
 _ "gocloud.dev/blob/fileblob"
 _ "gocloud.dev/blob/memblob"
 _ "gocloud.dev/blob/gcsblob"
 _ "gocloud.dev/blob/azureblob"
 _ "github.com/google/go-github/v84/github"
 _ "github.com/bradleyfalzon/ghinstallation/v2"
 _ "github.com/spf13/cobra"
 _ "github.com/go-git/go-git/v5"
 _ "github.com/getkin/kin-openapi/openapi3filter"
 _ "gopkg.in/yaml.v3"
 _ "github.com/cenkalti/backoff/v5"
 _ "github.com/golang-jwt/jwt/v5"
 _ "github.com/aws/aws-sdk-go-v2/service/s3"
 _ "github.com/aws/aws-sdk-go-v2/config"
 _ "github.com/bmatcuk/doublestar/v4"
 _ "golang.org/x/term"
)


import (
	_ "github.com/aws/aws-lambda-go/lambda"
	_ "github.com/chromedp/chromedp"
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/riverqueue/river"
	_ "github.com/riverqueue/river/riverdriver/riverpgxv5"
	_ "github.com/vektah/gqlparser/v2"
	_ "modernc.org/sqlite"
)
