package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/config"
)

// echoSettings are the settings of a kind defined only in this test, to
// show that a new kind needs nothing outside its own code and registration.
type echoSettings struct {
	Watch string `yaml:"watch" cfg:"required"`
	Times int    `yaml:"times"`
}

type echoKind struct{ handled *[]Object }

func (echoKind) Name() string     { return "echo" }
func (echoKind) NewSettings() any { return &echoSettings{} }
func (echoKind) Check(v any, c *config.Checker) {
	s := v.(*echoSettings)
	if !c.Has("times") {
		s.Times = 1
	}
	c.Range("times", s.Times, 1, 3)
	c.Dest("watch", &s.Watch)
}
func (echoKind) Run(_ context.Context, _ *Env, job *config.Job, _ RunOptions) (*Result, error) {
	s := job.Settings.(*echoSettings)
	return &Result{Summary: map[string]int{"times": s.Times}, Changed: true}, nil
}
func (echoKind) Describe(job *config.Job) Description {
	return Description{Source: job.Settings.(*echoSettings).Watch}
}
func (echoKind) Needs(job *config.Job) Needs {
	return Needs{Stores: []StoreUse{{URL: job.Settings.(*echoSettings).Watch, Access: AccessReadWrite, Watch: true}}}
}
func (k echoKind) HandleObjects(_ context.Context, _ *Env, _ *config.Job, objs []Object, _ RunOptions) (*Result, error) {
	*k.handled = append(*k.handled, objs...)
	return &Result{Summary: len(objs)}, nil
}

func TestANewKindIsOneRegistration(t *testing.T) {
	var handled []Object
	reg := Builtin()
	reg.Register(echoKind{handled: &handled})
	y := "jobs:\n  - name: e\n    kind: echo\n    watch: s3://up/incoming/\n    times: 2\n" +
		"  - name: site\n    kind: repo\n    source: dir:.\n    dest: s3://site/www/\n"
	cfg, err := reg.Parse([]byte(y), "k.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Config: cfg, Kinds: reg}
	res, err := r.Run(context.Background(), "e", RunOptions{})
	if err != nil || res.Kind != "echo" || res.Job != "e" || res.Summary.(map[string]int)["times"] != 2 {
		t.Fatalf("run: %v %+v", err, res)
	}
	if d := r.Describe(cfg.Jobs[0]); d.Source != "s3://up/incoming/" {
		t.Errorf("describe %+v", d)
	}
	// Object routing: only the watching job, only under its prefix.
	if got := reg.Watching(cfg, "up", "incoming/a.csv"); len(got) != 1 || got[0].Name != "e" {
		t.Errorf("watching incoming/a.csv: %v", got)
	}
	if got := reg.Watching(cfg, "up", "other/a.csv"); len(got) != 0 {
		t.Errorf("watching other/a.csv: %v", got)
	}
	if got := reg.Watching(cfg, "site", "www/a"); len(got) != 0 {
		t.Errorf("a repo job does not watch: %v", got)
	}
	if _, err := r.HandleObjects(context.Background(), cfg.Jobs[0], []Object{{Bucket: "up", Key: "incoming/a.csv"}}, RunOptions{}); err != nil || len(handled) != 1 {
		t.Errorf("handle objects: %v %v", err, handled)
	}
	if _, err := r.HandleObjects(context.Background(), cfg.Jobs[1], nil, RunOptions{}); !errors.Is(err, ErrUsage) {
		t.Errorf("a repo job handling objects: %v", err)
	}

	// The kind's rules are checked at load, at the key, like built-in kinds.
	_, err = reg.Parse([]byte("jobs:\n  - name: e\n    kind: echo\n    watch: up/\n    times: 9\n    tims: 1\n"), "k.yaml", nil)
	for _, want := range []string{
		`k.yaml:5:5: jobs[0].times: must be between 1 and 3 (got 9)`,
		`k.yaml:6:5: jobs[0].tims: unknown field "tims" (did you mean "times"?)`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
	// Builtin does not know the test kind.
	if _, err := ParseConfig([]byte(y), "k.yaml", nil); err == nil || !strings.Contains(err.Error(), `jobs[0].kind: must be one of`) {
		t.Errorf("builtin accepted kind echo: %v", err)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	r := Builtin()
	r.Register(repoKind{})
}

func TestUsageError(t *testing.T) {
	cause := errors.New("root cause")
	err := Usagef("bad %s: %w", "thing", cause)
	if !errors.Is(err, ErrUsage) || !errors.Is(err, cause) || err.Error() != "bad thing: root cause" {
		t.Errorf("Usagef: %v (is usage %v, is cause %v)", err, errors.Is(err, ErrUsage), errors.Is(err, cause))
	}
	var ue *UsageError
	if !errors.As(err, &ue) || Usage(nil) != nil {
		t.Error("As / Usage(nil)")
	}
}
