package lambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/store"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		name, payload string
		shape         Shape
		job, via      string
		dry           bool
		objects       []S3Object
	}{
		{"direct", `{"job":"site","dry_run":true}`, ShapeJob, "site", "direct", true, nil},
		{"scheduler", `{"job":"site"}`, ShapeJob, "site", "direct", false, nil},
		{"eventbridge detail", `{"detail-type":"x","source":"y","detail":{"job":"hud","dry_run":true}}`, ShapeJob, "hud", "eventbridge", true, nil},
		{"legacy", `{"branches":"main,release/2.0","user":"acme","repo":"app","history_size":100}`, ShapeLegacyStatuses, "", "direct", false, nil},
		{"empty", `{}`, ShapeLegacyStatuses, "", "direct", false, nil},
		{"scheduled event without input", `{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}`, ShapeLegacyStatuses, "", "eventbridge", false, nil},
		{"s3 decoded key", `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"a+b%3Ac.csv"}}}]}`, ShapeS3, "", "s3", false, []S3Object{{Bucket: "b", Key: "a b:c.csv"}}},
		{"sqs with test event", `{"Records":[{"eventSource":"aws:sqs","body":"{\"Event\":\"s3:TestEvent\"}"},{"eventSource":"aws:sqs","body":"{\"Records\":[{\"eventSource\":\"aws:s3\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}}]}"}]}`, ShapeS3, "", "sqs", false, []S3Object{{Bucket: "b", Key: "k"}}},
		{"eventbridge s3", `{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":"k"}}}`, ShapeS3, "", "eventbridge", false, []S3Object{{Bucket: "b", Key: "k"}}},
		{"http", `{"version":"2.0","rawPath":"/x","requestContext":{"http":{"method":"GET"}}}`, ShapeHTTP, "", "function-url/http-api", false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := Classify([]byte(c.payload))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Shape != c.shape || ev.Job != c.job || ev.Via != c.via || ev.DryRun != c.dry {
				t.Errorf("got %+v", ev)
			}
			if len(ev.Objects) != len(c.objects) {
				t.Fatalf("objects %v, want %v", ev.Objects, c.objects)
			}
			for i := range c.objects {
				if ev.Objects[i] != c.objects[i] {
					t.Errorf("object %d = %v, want %v", i, ev.Objects[i], c.objects[i])
				}
			}
		})
	}
	for _, bad := range []string{`"x"`, `{"foo":1}`, `{"job":""}`, `{"Records":[{"eventSource":"aws:sns"}]}`,
		`{"httpMethod":"GET","requestContext":{}}`} {
		if ev, err := Classify([]byte(bad)); err == nil {
			t.Errorf("Classify(%s) = %+v, want error", bad, ev)
		}
	}
}

func TestServeHTTPEventRoundTrip(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Add("Set-Cookie", "a=1")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(r.Method + " " + r.URL.RequestURI() + " " + r.Header.Get("X-Thing") + " " + string(body) + " " + r.RemoteAddr))
	})
	ev := map[string]any{"version": "2.0", "rawPath": "/p/q", "rawQueryString": "a=1&b=2",
		"headers": map[string]string{"x-thing": "v1,v2"}, "body": base64.StdEncoding.EncodeToString([]byte("\x00bin")),
		"isBase64Encoded": true, "requestContext": map[string]any{"http": map[string]any{"method": "PUT", "sourceIp": "198.51.100.7"}}}
	payload, _ := json.Marshal(ev)
	res, err := ServeHTTPEvent(context.Background(), h, payload)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusTeapot || !res.IsBase64Encoded || len(res.Cookies) != 1 || res.Cookies[0] != "a=1" {
		t.Fatalf("response %+v", res)
	}
	got, _ := base64.StdEncoding.DecodeString(res.Body)
	if want := "PUT /p/q?a=1&b=2 v1,v2 \x00bin 198.51.100.7:0"; string(got) != want {
		t.Errorf("body %q, want %q", got, want)
	}
}

func TestLoadConfigSources(t *testing.T) {
	ctx := context.Background()
	yml := "jobs:\n  - name: site\n    kind: repo\n    source: dir:/src\n    dest: file:///tmp/x/\n"
	b, err := store.Open(ctx, "mem://lambda-config-test/cfg/", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "ghsync.yaml", strings.NewReader(yml), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GHSYNC_CONFIG": "mem://lambda-config-test/cfg/ghsync.yaml"}
	cfg, src, err := LoadConfig(ctx, func(k string) string { return env[k] }, "")
	if err != nil || len(cfg.Jobs) != 1 || src != "mem://lambda-config-test/cfg/ghsync.yaml" {
		t.Fatalf("from store: %v %q %v", cfg, src, err)
	}
	env["GHSYNC_CONFIG"] = "mem://lambda-config-test/cfg/missing.yaml"
	if _, _, err := LoadConfig(ctx, func(k string) string { return env[k] }, ""); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing object: %v", err)
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "ghsync.yaml"), []byte(strings.ReplaceAll(yml, "site", "pkg")), 0o644); err != nil {
		t.Fatal(err)
	}
	env = map[string]string{"LAMBDA_TASK_ROOT": root}
	cfg, src, err = LoadConfig(ctx, func(k string) string { return env[k] }, "")
	if err != nil || len(cfg.Jobs) != 1 || cfg.Jobs[0].Name != "pkg" || src != filepath.Join(root, "ghsync.yaml") {
		t.Fatalf("from task root: %v %q %v", cfg, src, err)
	}
	env["GHSYNC_CONFIG_YAML"] = yml
	if cfg, src, err = LoadConfig(ctx, func(k string) string { return env[k] }, ""); err != nil || cfg.Jobs[0].Name != "site" || src != "GHSYNC_CONFIG_YAML" {
		t.Fatalf("YAML in env wins over the package file: %v %q %v", cfg, src, err)
	}
}

func TestDetect(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	api := env(map[string]string{EnvRuntimeAPI: "127.0.0.1:9001"})
	none := env(nil)
	for _, c := range []struct {
		args []string
		env  func(string) string
		want bool
	}{
		{[]string{"/usr/local/bin/ghsync"}, api, true},
		{[]string{"/usr/local/bin/ghsync", "run", "x"}, api, false},
		{[]string{"/var/task/bootstrap"}, none, true},
		{[]string{"/usr/local/bin/ghsync"}, none, false},
	} {
		if got := Detect(c.args, c.env); got != c.want {
			t.Errorf("Detect(%v) = %v, want %v", c.args, got, c.want)
		}
	}
}
