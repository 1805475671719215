package e2e

import (
	"testing"

	"github.com/ghsync/ghsync/internal/testkit"
)

// TestMain removes the ghsync binary testkit may have built (see testkit.Main).
func TestMain(m *testing.M) { testkit.Main(m) }
