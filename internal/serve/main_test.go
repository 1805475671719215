package serve_test

import (
	"testing"

	"github.com/ghsync/ghsync/internal/testkit"
)

// TestMain removes the ghsync binary testkit may have built (see testkit.Main).
func TestMain(m *testing.M) { testkit.Main(m) }
