package slogx

import (
	"fmt"
	"log/slog"

	"github.com/aws/smithy-go/logging"
)

// AWS returns a logger for the AWS SDK (config.WithLogger) that routes the
// SDK's own lines — such as the credential chain's "falling back to
// IMDSv1" warning — to l at debug level, so that they neither bypass
// ghsync's logger (format, level) nor alarm users of other clouds. A nil l
// discards them.
func AWS(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		if l != nil {
			l.Debug("aws sdk: "+fmt.Sprintf(format, v...), "class", string(c))
		}
	})
}
