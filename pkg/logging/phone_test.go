package logging_test

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/sms"
)

// One masking policy for phone numbers: a number masked upstream with
// sms.MaskNumber (what sms-sender and example-service log) and a raw number
// masked by the logger read the same, through the functions' logger and
// through cmd/'s slog handler, and no line holds the number in full.
func TestNoPathLogsAFullPhoneNumber(t *testing.T) {
	t.Parallel()
	for _, n := range []struct{ number, national string }{
		{"+447700900089", "7700900089"},
		{"+14155550142", "4155550142"},
		{"+353871234567", "871234567"},
	} {
		var fb, sb bytes.Buffer
		flog := logging.New(logging.WithOutput(&fb))
		slg := slog.New(logging.NewSlogHandler(&sb, slog.LevelInfo))
		for _, to := range []string{sms.MaskNumber(n.number), n.number} {
			flog.WithField("to", to).WithField("note", "call "+n.number).WithError(errors.New("provider rejected " + n.number)).Info("sms to " + n.number)
			slg.Info("sms to "+n.number, "to", to, "note", "call "+n.number, "error", errors.New("provider rejected "+n.number))
		}
		masked := sms.MaskNumber(n.number)
		for path, buf := range map[string]*bytes.Buffer{"logrus": &fb, "slog": &sb} {
			out := buf.String()
			require.NotContains(t, out, n.national, "%s: %s", path, out)
			lines := slogLines(t, buf)
			require.Len(t, lines, 2, path)
			for _, l := range lines {
				require.Equal(t, masked, l["to"], "%s: the same mask upstream and in the logger", path)
				require.Equal(t, "sms to "+masked, l["message"], path)
				require.Equal(t, "call "+masked, l["note"], path)
				require.Equal(t, "provider rejected "+masked, l["error"], path)
			}
		}
	}
}
