package githubtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestJobAndJobLogs(t *testing.T) {
	s := New(t, Options{})
	s.AddRepo("acme", "app")
	s.SetJob("acme", "app", Job{ID: 77, RunID: 5, Name: "build", HeadSHA: strings.Repeat("a", 40), Status: "completed",
		Conclusion: "failure", StartedAt: time.Now().Add(-time.Minute), CompletedAt: time.Now()})
	resp, body := do(t, s, "GET", "repos/acme/app/actions/jobs/77")
	var j map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(body, &j) != nil || j["conclusion"] != "failure" || j["id"] != float64(77) {
		t.Fatalf("job: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, s, "GET", "repos/acme/app/actions/jobs/78"); resp.StatusCode != 404 {
		t.Errorf("unknown job: %d", resp.StatusCode)
	}
	if resp, _ := do(t, s, "GET", "repos/acme/app/actions/jobs/77/logs"); resp.StatusCode != 404 {
		t.Errorf("log not ready: %d, want 404", resp.StatusCode)
	}
	s.SetJobLogURL("acme", "app", 77, "http://blob.example/logs/77?sig=x")
	resp, _ = do(t, s, "GET", "repos/acme/app/actions/jobs/77/logs")
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "http://blob.example/logs/77?sig=x" {
		t.Errorf("log: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	noViolations(t, s)
}

func TestHookDeliveriesPagingAndRedelivery(t *testing.T) {
	s := New(t, Options{})
	for i := 0; i < 7; i++ {
		s.AddHookDelivery(HookDelivery{GUID: fmt.Sprintf("g-%d", i), Event: "issues", Action: "opened", Status: "OK", StatusCode: 202})
	}
	jwt, err := s.SignAppJWT()
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, s, "GET", "app/hook/deliveries"); resp.StatusCode != 401 {
		t.Fatalf("without JWT: %d, want 401", resp.StatusCode)
	}
	var guids []string
	path := "app/hook/deliveries?per_page=3"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		resp, body := do(t, s, "GET", path, "Authorization", "Bearer "+jwt)
		var items []struct {
			ID   int64  `json:"id"`
			GUID string `json:"guid"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &items) != nil {
			t.Fatalf("list: %d %s", resp.StatusCode, body)
		}
		for _, it := range items {
			guids = append(guids, it.GUID)
		}
		path = ""
		if l := resp.Header.Get("Link"); l != "" {
			u := l[strings.Index(l, "<")+1 : strings.Index(l, ">")]
			path = strings.TrimPrefix(u, s.URL)
		}
	}
	if got := strings.Join(guids, ","); got != "g-6,g-5,g-4,g-3,g-2,g-1,g-0" {
		t.Fatalf("guids newest first = %s", got)
	}
	got := make(chan HookDelivery, 1)
	s.OnRedeliver(func(d HookDelivery) { got <- d })
	resp, _ := do(t, s, "GET", "app/hook/deliveries?per_page=1", "Authorization", "Bearer "+jwt)
	_ = resp
	first := s.AddHookDelivery(HookDelivery{GUID: "g-x", Event: "push", Status: "failed to connect", StatusCode: 502})
	if resp, body := do(t, s, "POST", fmt.Sprintf("app/hook/deliveries/%d/attempts", first.ID), "Authorization", "Bearer "+jwt); resp.StatusCode != 202 {
		t.Fatalf("redeliver: %d %s", resp.StatusCode, body)
	}
	if d := <-got; d.GUID != "g-x" {
		t.Errorf("OnRedeliver got %+v", d)
	}
	if r := s.Redeliveries(); len(r) != 1 || r[0] != first.ID {
		t.Errorf("Redeliveries = %v", r)
	}
	if resp, _ := do(t, s, "POST", "app/hook/deliveries/1/attempts", "Authorization", "Bearer "+jwt); resp.StatusCode != 404 {
		t.Errorf("unknown delivery: %d", resp.StatusCode)
	}
	noViolations(t, s)
}
