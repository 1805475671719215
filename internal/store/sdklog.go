package store

import (
	"fmt"
	"log/slog"

	"github.com/aws/smithy-go/logging"
)

// sdkLogger routes the AWS SDK's own log lines (such as its IMDS fallback
// warning) to slog at debug level, so they neither bypass ghsync's logger
// nor alarm users of other clouds.
type sdkLogger struct{ log *slog.Logger }

// Logf implements logging.Logger.
func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	if l.log != nil {
		l.log.Debug("aws sdk: "+fmt.Sprintf(format, v...), "class", string(c))
	}
}
