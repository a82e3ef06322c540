package main

import (
	"io"
	"log/slog"
	"strings"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/config"
)

// studentKeys are the log attribute keys whose values are student ids,
// masked unless log.show_student_ids is set.
var studentKeys = map[string]bool{
	"student": true, "student_id": true, "emplid": true,
	"user": true, "user_id": true, "patron": true, "patron_id": true,
}

// secretLogKeys are attribute keys that never carry their value into a log,
// whatever the value's type.
var secretLogKeys = map[string]bool{
	"api_key": true, "apikey": true, "password": true, "secret": true,
	"authorization": true, "token": true,
}

// newLogger returns the slog logger for cfg writing to w. Student ids are
// masked (with fees.MaskID) unless cfg.ShowStudentIDs is set; attributes named
// like secrets are always redacted.
func newLogger(w io.Writer, cfg config.LogConfig) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			k := strings.ToLower(a.Key)
			switch {
			case secretLogKeys[k]:
				return slog.String(a.Key, config.Redacted)
			case studentKeys[k] && !cfg.ShowStudentIDs:
				return slog.String(a.Key, fees.MaskID(a.Value.Resolve().String()))
			}
			return a
		},
	}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
