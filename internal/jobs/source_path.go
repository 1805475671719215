package jobs

import (
	"strings"

	"github.com/ghsync/ghsync/internal/config"
)

// resolveSourcePath resolves a repo job's local source (a folder or
// checkout path, dir:PATH, git+file://PATH) against the config file's
// folder (config.Config.Path), as every relative path in a config file
// is. GitHub and remote sources, templates and absolute paths are kept.
func resolveSourcePath(c *config.Checker, src *string) {
	s := *src
	switch {
	case s == "" || strings.Contains(s, "{") || c.Config().Dir() == "":
	case strings.HasPrefix(s, "dir:"):
		*src = "dir:" + c.Config().Path(strings.TrimPrefix(s, "dir:"))
	case strings.HasPrefix(s, "git+file://"):
		p := strings.TrimPrefix(s, "git+file://")
		if !strings.HasPrefix(p, "/") {
			*src = "git+file://" + c.Config().Path(p)
		}
	case strings.HasPrefix(s, "github:"), strings.Contains(s, "://"):
	default:
		*src = c.Config().Path(s)
	}
}
